/* Compiled kernels of the native backend, without the GIL: tree-ensemble descent (with the sums of
 * its terminals' values, or the terminals themselves), its set-membership rows, the running sums of
 * regression tables, neural layers and support vector machines, and the contract's number columns
 * and text factorisation.
 *
 * The same arithmetic as the NumPy kernels in kernels.py, so both give the same bits:
 * a row goes right when x > threshold (false for NaN and for a NaN threshold), to the
 * missing branch when x is NaN; terminals lead to themselves.  Node ids are "doubled"
 * (2 * node), as kernels.TreeTables keeps them, so callers index results the same way.
 *
 * Plain C over the buffer protocol: no NumPy headers, so the extension builds wherever
 * Python's headers and a C compiler are, and the NumPy path stays the fallback.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#include <stdint.h>

/* One node, as kernels.NODE_DTYPE packs it: children by node index (callers see doubled ids). */
typedef struct {
    double threshold;
    int32_t feature;  /* row of XT tested */
    int32_t left;     /* child when x <= threshold (or the threshold is NaN) */
    int32_t right;    /* child when x > threshold */
    int32_t missing;  /* child when x is NaN */
} Node;

#ifndef PMMLKIT_LANES
#define PMMLKIT_LANES 8
#endif
enum { LANES = PMMLKIT_LANES };  /* rows descending one tree together: their loads overlap, no branch mispredicts */
/* Rows that go down one tree after another, lanes at a time: a tree's nodes stay in the L1 cache
 * while the block's rows walk it.  The peer random forest's descent (1.2 MB of tables) ran 10-12%
 * faster on one core, 17% on two, than with every tree walked for 8 rows at a time. */
enum { TREE_BLOCK = 512 };

/* The one routing rule: right when x > threshold, the missing child when x is NaN.  Left and
 * right are adjacent, so the outcome indexes them (no branch). */
static inline int32_t child(const Node *nd, double x)
{
    int32_t next = (&nd->left)[x > nd->threshold];
    return x != x ? nd->missing : next;
}

/* Rows [b, b + lanes) through the tree at node ``root``, in lockstep, until none moves: each
 * row's terminal node into cur. */
static inline void walk_lanes(const double *const *rows, const Node *nodes, int32_t root, long steps,
                              Py_ssize_t b, int lanes, int32_t *cur)
{
    for (int k = 0; k < lanes; k++)
        cur[k] = root;
    for (long s = 0; s < steps; s++) {  /* bounded: a longest path ends every tree */
        int32_t moved = 0;
        for (int k = 0; k < lanes; k++) {
            const Node *nd = &nodes[cur[k]];
            const int32_t next = child(nd, rows[nd->feature][b + k]);
            moved |= next ^ cur[k];
            cur[k] = next;
        }
        if (!moved)
            break;
    }
}

/* Row r through trees [t, t + lanes), in lockstep: a record's trees overlap as a batch's rows do. */
static void descend_trees(const double *const *rows, const Node *nodes, const int64_t *roots, long steps,
                          int64_t *out, Py_ssize_t r, Py_ssize_t t, int lanes)
{
    int32_t cur[LANES];
    for (int k = 0; k < lanes; k++)
        cur[k] = (int32_t)(roots[t + k] >> 1);
    for (long s = 0; s < steps; s++) {
        int32_t moved = 0;
        for (int k = 0; k < lanes; k++) {
            const Node *nd = &nodes[cur[k]];
            const int32_t next = child(nd, rows[nd->feature][r]);
            moved |= next ^ cur[k];
            cur[k] = next;
        }
        if (!moved)
            break;
    }
    for (int k = 0; k < lanes; k++)
        out[t + k] = 2 * (int64_t)cur[k];
}

static void descend_rows(const double *const *rows, const Node *nodes, const int64_t *roots, Py_ssize_t trees,
                         long steps, int64_t *out, Py_ssize_t start, Py_ssize_t stop)
{
    if (stop - start < LANES) {  /* too few rows to fill the lanes: the trees fill them */
        for (Py_ssize_t r = start; r < stop; r++)
            for (Py_ssize_t t = 0; t < trees; t += LANES)
                descend_trees(rows, nodes, roots, steps, out + r * trees, r, t,
                              (int)(t + LANES < trees ? LANES : trees - t));
        return;
    }
    int32_t cur[LANES];
    for (Py_ssize_t b0 = start; b0 < stop; b0 += TREE_BLOCK) {
        const Py_ssize_t end = b0 + TREE_BLOCK < stop ? b0 + TREE_BLOCK : stop;
        for (Py_ssize_t t = 0; t < trees; t++)
            for (Py_ssize_t b = b0; b < end; b += LANES) {
                const int lanes = (int)(b + LANES < end ? LANES : end - b);
                walk_lanes(rows, nodes, (int32_t)(roots[t] >> 1), steps, b, lanes, cur);
                for (int k = 0; k < lanes; k++)
                    out[(b + k) * trees + t] = 2 * (int64_t)cur[k];
            }
    }
}

static int get(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t itemsize, const char *what)
{
    if (PyObject_GetBuffer(obj, view, (writable ? PyBUF_WRITABLE : 0) | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->len % itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes is not a whole number of %zd-byte items",
                     what, view->len, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* A descent's inputs: XT [columns, n], the forest's nodes and roots, and where each row of XT
 * starts (a step loads its input without a multiply). */
typedef struct {
    Py_buffer xt, nodes, roots;
    const double **rows;
    Py_ssize_t n, trees;
} Descent;

/* 0 with every buffer held, or -1 with an exception set and none held. */
static int open_descent(Descent *d, PyObject *xt_obj, Py_ssize_t n, PyObject *nodes_obj, PyObject *roots_obj,
                        const char *who)
{
    if (get(xt_obj, &d->xt, 0, sizeof(double), "XT") < 0)
        return -1;
    if (get(nodes_obj, &d->nodes, 0, sizeof(Node), "nodes") < 0)
        goto fail_xt;
    if (get(roots_obj, &d->roots, 0, sizeof(int64_t), "roots") < 0)
        goto fail_nodes;
    if (n < 0 || (n && d->xt.len / (Py_ssize_t)sizeof(double) % n)) {
        PyErr_Format(PyExc_ValueError, "%s: XT does not hold whole inputs of %zd rows each", who, n);
        goto fail_roots;
    }
    Py_ssize_t columns = n ? d->xt.len / (Py_ssize_t)sizeof(double) / n : 0;
    d->rows = PyMem_Malloc((columns ? columns : 1) * sizeof(double *));
    if (d->rows == NULL) {
        PyErr_NoMemory();
        goto fail_roots;
    }
    for (Py_ssize_t c = 0; c < columns; c++)
        d->rows[c] = (const double *)d->xt.buf + c * n;
    d->n = n;
    d->trees = d->roots.len / (Py_ssize_t)sizeof(int64_t);
    return 0;
fail_roots:
    PyBuffer_Release(&d->roots);
fail_nodes:
    PyBuffer_Release(&d->nodes);
fail_xt:
    PyBuffer_Release(&d->xt);
    return -1;
}

static void close_descent(Descent *d)
{
    PyMem_Free(d->rows);
    PyBuffer_Release(&d->roots);
    PyBuffer_Release(&d->nodes);
    PyBuffer_Release(&d->xt);
}

/* descend(XT, n, nodes, roots, steps, out): out[r, t] = doubled terminal of row r in tree t. */
static PyObject *descend(PyObject *self, PyObject *args)
{
    PyObject *xt_obj, *nodes_obj, *roots_obj, *out_obj;
    Py_ssize_t n;
    long steps;
    if (!PyArg_ParseTuple(args, "OnOOlO", &xt_obj, &n, &nodes_obj, &roots_obj, &steps, &out_obj))
        return NULL;
    Descent d;
    Py_buffer out;
    if (open_descent(&d, xt_obj, n, nodes_obj, roots_obj, "descend") < 0)
        return NULL;
    if (get(out_obj, &out, 1, sizeof(int64_t), "out") < 0) {
        close_descent(&d);
        return NULL;
    }
    int ok = out.len / (Py_ssize_t)sizeof(int64_t) == n * d.trees;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        descend_rows(d.rows, (const Node *)d.nodes.buf, (const int64_t *)d.roots.buf, d.trees, steps,
                     (int64_t *)out.buf, 0, n);
        Py_END_ALLOW_THREADS
    } else {
        PyErr_Format(PyExc_ValueError, "descend: out is not %zd rows x %zd trees", n, d.trees);
    }
    PyBuffer_Release(&out);
    close_descent(&d);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

/* sum_terminals(nodes, values, out): out[r] = values[nodes[r, 0]] + values[nodes[r, 1]] + ...,
 * starting from 0.0 and adding tree after tree: JPMML's order, whatever the number of rows, so a
 * record gets the bits of the same row in a batch (a BLAS dot product orders its sum by the
 * batch's shape).  A node id outside ``values`` is an error, not a read out of bounds. */
static int sum_rows(const int64_t *nodes, Py_ssize_t n, Py_ssize_t trees, const double *values, Py_ssize_t size,
                    double *out)
{
    for (Py_ssize_t r = 0; r < n; r++) {
        const int64_t *row = nodes + r * trees;
        double acc = 0.0;
        for (Py_ssize_t t = 0; t < trees; t++) {
            if (row[t] < 0 || row[t] >= size)
                return -1;
            acc += values[row[t]];
        }
        out[r] = acc;
    }
    return 0;
}

static PyObject *sum_terminals(PyObject *self, PyObject *args)
{
    PyObject *nodes_obj, *values_obj, *out_obj;
    if (!PyArg_ParseTuple(args, "OOO", &nodes_obj, &values_obj, &out_obj))
        return NULL;
    Py_buffer nodes, values, out;
    if (get(nodes_obj, &nodes, 0, sizeof(int64_t), "nodes") < 0)
        return NULL;
    if (get(values_obj, &values, 0, sizeof(double), "values") < 0) {
        PyBuffer_Release(&nodes);
        return NULL;
    }
    if (get(out_obj, &out, 1, sizeof(double), "out") < 0) {
        PyBuffer_Release(&values);
        PyBuffer_Release(&nodes);
        return NULL;
    }
    Py_ssize_t n = out.len / (Py_ssize_t)sizeof(double), cells = nodes.len / (Py_ssize_t)sizeof(int64_t);
    int status = -2;
    if (n && cells % n == 0) {
        Py_BEGIN_ALLOW_THREADS
        status = sum_rows(nodes.buf, n, cells / n, values.buf, values.len / (Py_ssize_t)sizeof(double), out.buf);
        Py_END_ALLOW_THREADS
    } else if (!n && !cells) {
        status = 0;
    }
    PyBuffer_Release(&out);
    PyBuffer_Release(&values);
    PyBuffer_Release(&nodes);
    if (status == -1)
        PyErr_SetString(PyExc_ValueError, "sum_terminals: a node id outside values");
    else if (status == -2)
        PyErr_Format(PyExc_ValueError, "sum_terminals: %zd node ids do not make %zd rows", cells, n);
    if (status)
        return NULL;
    Py_RETURN_NONE;
}

/* descend_sums(XT, n, nodes, roots, steps, values, columns, out): out[r, c] = values[terminal of row r
 * in tree 0, c] + values[... tree 1, c] + ..., from 0.0, tree after tree: descend, then sum_terminals
 * of each column of values [nodes, columns] (by node, not doubled id), bit for bit, without the
 * [rows, trees] terminals in between (a 100-tree forest wrote and re-read 800 bytes a row).  A
 * node's values share its cache line.  The sums run in JPMML's order whatever the lanes. */
static void sum_lanes(const double *values, Py_ssize_t columns, const int32_t *cur, int lanes,
                      double *acc)
{
    for (int k = 0; k < lanes; k++)
        for (Py_ssize_t c = 0; c < columns; c++)
            acc[k * columns + c] += values[(Py_ssize_t)cur[k] * columns + c];
}

static void descend_sum_rows(const double *const *rows, const Node *nodes, const int64_t *roots, Py_ssize_t trees,
                             long steps, const double *values, Py_ssize_t columns, int64_t *terminals, double *out,
                             Py_ssize_t n)
{
    if (n < LANES) {  /* too few rows to fill the lanes: the trees fill them (descend_rows), then the sums */
        for (Py_ssize_t r = 0; r < n; r++) {
            for (Py_ssize_t t = 0; t < trees; t += LANES)
                descend_trees(rows, nodes, roots, steps, terminals, r, t, (int)(t + LANES < trees ? LANES : trees - t));
            for (Py_ssize_t c = 0; c < columns; c++) {
                double sum = 0.0;
                for (Py_ssize_t t = 0; t < trees; t++)
                    sum += values[(terminals[t] >> 1) * columns + c];
                out[r * columns + c] = sum;
            }
        }
        return;
    }
    int32_t cur[LANES];
    for (Py_ssize_t b0 = 0; b0 < n; b0 += TREE_BLOCK) {  /* each row's sum starts at 0.0 and adds tree after tree */
        const Py_ssize_t end = b0 + TREE_BLOCK < n ? b0 + TREE_BLOCK : n;
        for (Py_ssize_t i = b0 * columns; i < end * columns; i++)
            out[i] = 0.0;
        for (Py_ssize_t t = 0; t < trees; t++)
            for (Py_ssize_t b = b0; b < end; b += LANES) {
                const int lanes = (int)(b + LANES < end ? LANES : end - b);
                walk_lanes(rows, nodes, (int32_t)(roots[t] >> 1), steps, b, lanes, cur);
                sum_lanes(values, columns, cur, lanes, out + b * columns);
            }
    }
}

static PyObject *descend_sums(PyObject *self, PyObject *args)
{
    PyObject *xt_obj, *nodes_obj, *roots_obj, *values_obj, *out_obj;
    Py_ssize_t n, columns;
    long steps;
    if (!PyArg_ParseTuple(args, "OnOOlOnO", &xt_obj, &n, &nodes_obj, &roots_obj, &steps, &values_obj, &columns,
                          &out_obj))
        return NULL;
    Descent d;
    Py_buffer values, out;
    if (open_descent(&d, xt_obj, n, nodes_obj, roots_obj, "descend_sums") < 0)
        return NULL;
    if (get(values_obj, &values, 0, sizeof(double), "values") < 0)
        goto fail_descent;
    if (get(out_obj, &out, 1, sizeof(double), "out") < 0)
        goto fail_values;
    Py_ssize_t cells = values.len / (Py_ssize_t)sizeof(double);
    if (columns < 1 || out.len / (Py_ssize_t)sizeof(double) != n * columns || cells % columns) {
        PyErr_Format(PyExc_ValueError, "descend_sums: values and out are not %zd rows x %zd columns", n, columns);
        goto fail_out;
    }
    /* Every node has its row of values: no read outside them (sum_terminals' check, once). */
    Py_ssize_t node_count = d.nodes.len / (Py_ssize_t)sizeof(Node);
    if (cells / columns < node_count) {
        PyErr_Format(PyExc_ValueError, "descend_sums: %zd rows of values for %zd nodes", cells / columns, node_count);
        goto fail_out;
    }
    int64_t *terminals = PyMem_Malloc((size_t)(d.trees ? d.trees : 1) * sizeof(int64_t));
    if (terminals == NULL) {
        PyErr_NoMemory();
        goto fail_out;
    }
    Py_BEGIN_ALLOW_THREADS
    descend_sum_rows(d.rows, (const Node *)d.nodes.buf, (const int64_t *)d.roots.buf, d.trees, steps,
                     (const double *)values.buf, columns, terminals, (double *)out.buf, n);
    Py_END_ALLOW_THREADS
    PyMem_Free(terminals);
    PyBuffer_Release(&out);
    PyBuffer_Release(&values);
    close_descent(&d);
    Py_RETURN_NONE;
fail_out:
    PyBuffer_Release(&out);
fail_values:
    PyBuffer_Release(&values);
fail_descent:
    close_descent(&d);
    return NULL;
}

/* ---- The contract's plain number columns (contract.py, Contract._numbers) ---- */

enum { AS_DOUBLE = 0, AS_FLOAT = 1, AS_INTEGER = 2 };

/* numbers(nums, kind, fill, out) -> (missing, other): out[i] is nums[i] typed (kind 1: rounded to
 * the nearest float, IEEE 754 conversion, beyond its range +-inf, as NumPy's astype), and fill
 * where nums[i] is NaN.  ``missing`` counts the NaN, ``other`` the values a kind-2 (Java int)
 * field cannot take: not whole, or outside [-2**31, 2**31 - 1].  One pass, GIL released; the
 * caller keeps ``out`` only when ``other`` is 0 (and ``fill`` is the missing value's treatment). */
static void type_numbers(const double *nums, Py_ssize_t n, int kind, double fill, double *out, Py_ssize_t *missing,
                         Py_ssize_t *other)
{
    Py_ssize_t m = 0, o = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const double x = nums[i];
        if (x != x) {
            m++;
            out[i] = fill;
        } else if (kind == AS_FLOAT) {
            out[i] = (double)(float)x;
        } else {
            if (kind == AS_INTEGER && !(x >= -2147483648.0 && x <= 2147483647.0 && (double)(int64_t)x == x))
                o++;
            out[i] = x;
        }
    }
    *missing = m;
    *other = o;
}

static PyObject *numbers(PyObject *self, PyObject *args)
{
    PyObject *nums_obj, *out_obj;
    int kind;
    double fill;
    if (!PyArg_ParseTuple(args, "OidO", &nums_obj, &kind, &fill, &out_obj))
        return NULL;
    if (kind < AS_DOUBLE || kind > AS_INTEGER) {
        PyErr_Format(PyExc_ValueError, "numbers: kind %d; expected 0 (double), 1 (float) or 2 (integer)", kind);
        return NULL;
    }
    Py_buffer nums, out;
    if (get(nums_obj, &nums, 0, sizeof(double), "nums") < 0)
        return NULL;
    if (get(out_obj, &out, 1, sizeof(double), "out") < 0) {
        PyBuffer_Release(&nums);
        return NULL;
    }
    if (out.len != nums.len) {
        PyErr_Format(PyExc_ValueError, "numbers: %zd values into %zd", nums.len / (Py_ssize_t)sizeof(double),
                     out.len / (Py_ssize_t)sizeof(double));
        PyBuffer_Release(&out);
        PyBuffer_Release(&nums);
        return NULL;
    }
    Py_ssize_t missing, other;
    Py_BEGIN_ALLOW_THREADS
    type_numbers((const double *)nums.buf, nums.len / (Py_ssize_t)sizeof(double), kind, fill, (double *)out.buf,
                 &missing, &other);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    PyBuffer_Release(&nums);
    return Py_BuildValue("nn", missing, other);
}

/* ---- Running sums of weighted inputs: regression tables, neural layers, support vector machines ---- */

enum { TERM_SCALED = 0, TERM_LOOKUP = 1, TERM_CONSTANT = 2, TERM_PLAIN = 3, TERM_SQUARED_DISTANCE = 4 };
enum { SUM_ROWS = 256 };  /* rows summed together: their running sums stay in L1 */

/* One term of an output's running sum. */
typedef struct {
    int64_t kind;
    const char *x;       /* the input it reads, at row 0 (unused by a constant) */
    Py_ssize_t stride;   /* bytes from one row of x to the next */
    const double *w;     /* the weight, the constant, or the lookup's block */
    Py_ssize_t width;    /* a lookup block's entries: codes + 1 */
} Term;

#define AT(t, r) (*(const double *)((t)->x + (r) * (t)->stride))

/* Rows [start, stop) of out [n, outputs]: output j adds terms [ends[j - 1], ends[j]) in order, from +0.0,
 * each step rounded as NumPy's element-wise ``acc += w * x`` rounds it.  -1, or the first row whose
 * lookup code has no entry in its block (*term: which term). */
static Py_ssize_t run_sums(const Term *terms, const int64_t *ends, Py_ssize_t outputs, Py_ssize_t start,
                           Py_ssize_t stop, double *out, Py_ssize_t *term)
{
    double acc[SUM_ROWS];
    for (Py_ssize_t b = start; b < stop; b += SUM_ROWS) {
        const Py_ssize_t len = b + SUM_ROWS < stop ? SUM_ROWS : stop - b;
        for (Py_ssize_t j = 0, t = 0; j < outputs; j++) {
            for (Py_ssize_t i = 0; i < len; i++)
                acc[i] = 0.0;
            for (; t < ends[j]; t++) {
                const Term *tm = &terms[t];
                const double w = tm->w[0];
                if (tm->kind == TERM_SCALED && tm->stride == (Py_ssize_t)sizeof(double)) {
                    const double *x = (const double *)tm->x + b;
                    for (Py_ssize_t i = 0; i < len; i++)
                        acc[i] += w * x[i];
                } else if (tm->kind == TERM_SCALED) {
                    for (Py_ssize_t i = 0; i < len; i++)
                        acc[i] += w * AT(tm, b + i);
                } else if (tm->kind == TERM_PLAIN) {
                    for (Py_ssize_t i = 0; i < len; i++)
                        acc[i] += AT(tm, b + i);
                } else if (tm->kind == TERM_CONSTANT) {
                    for (Py_ssize_t i = 0; i < len; i++)
                        acc[i] += w;
                } else if (tm->kind == TERM_SQUARED_DISTANCE) {
                    for (Py_ssize_t i = 0; i < len; i++) {
                        const double d = AT(tm, b + i) - w;
                        acc[i] += d * d;
                    }
                } else {
                    for (Py_ssize_t i = 0; i < len; i++) {
                        /* As block.take((np.fmax(code, -1) + 1).astype(intp)): NaN and -1 read entry 0. */
                        const double code = AT(tm, b + i);
                        const double at = code != code ? 0.0 : (code > -1.0 ? code : -1.0) + 1.0;
                        if (!(at < (double)tm->width)) {
                            *term = t;
                            return b + i;
                        }
                        acc[i] += tm->w[(Py_ssize_t)at];
                    }
                }
            }
            for (Py_ssize_t i = 0; i < len; i++)
                out[(b + i) * outputs + j] = acc[i];
        }
    }
    return -1;
}
#undef AT

/* weighted_sums(inputs, n, terms, ends, weights, out): out [n, outputs] (outputs = len(ends)) of
 * running sums, output j adding terms[ends[j - 1]:ends[j]] in order.  A term is 4 int64s (kind,
 * input, offset, width) over ``weights``:
 *   0  acc += weights[offset] * inputs[input][r]
 *   1  acc += weights[offset + k], k = fmax(inputs[input][r], -1) + 1 < width (a category's entry)
 *   2  acc += weights[offset]
 *   3  acc += inputs[input][r]
 *   4  acc += (inputs[input][r] - weights[offset]) ** 2, as d = x - w; d * d (a radial basis kernel)
 * ``inputs`` are 1-D float64 buffers of n rows, any stride (a column of a matrix is read in place).
 * GIL released; IndexError at a code outside its block, as NumPy's take. */
static PyObject *weighted_sums(PyObject *self, PyObject *args)
{
    PyObject *inputs, *terms_obj, *ends_obj, *weights_obj, *out_obj;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "O!nOOOO", &PyList_Type, &inputs, &n, &terms_obj, &ends_obj, &weights_obj, &out_obj))
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(inputs);
    Py_buffer *views = PyMem_Calloc((size_t)(count ? count : 1), sizeof(Py_buffer));
    Py_buffer spec, ends, weights, out;
    Term *terms = NULL;
    Py_ssize_t held = 0, nterms = 0, outputs = 0, bad = -1, bad_term = 0;
    int fixed = 0;  /* spec, ends, weights and out held */
    PyObject *result = NULL;
    if (views == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (; held < count; held++) {
        Py_buffer *v = &views[held];
        if (PyObject_GetBuffer(PyList_GET_ITEM(inputs, held), v, PyBUF_STRIDES | PyBUF_FORMAT) < 0)
            goto done;
        if (v->ndim != 1 || v->shape[0] != n || v->itemsize != sizeof(double) || v->format == NULL
                || strcmp(v->format, "d") != 0) {
            PyErr_Format(PyExc_ValueError, "weighted_sums: input %zd is not a float64 vector of %zd rows", held, n);
            held++;
            goto done;
        }
    }
    if (get(terms_obj, &spec, 0, sizeof(int64_t), "terms") < 0)
        goto done;
    if (get(ends_obj, &ends, 0, sizeof(int64_t), "ends") < 0) {
        PyBuffer_Release(&spec);
        goto done;
    }
    if (get(weights_obj, &weights, 0, sizeof(double), "weights") < 0) {
        PyBuffer_Release(&ends);
        PyBuffer_Release(&spec);
        goto done;
    }
    if (get(out_obj, &out, 1, sizeof(double), "out") < 0) {
        PyBuffer_Release(&weights);
        PyBuffer_Release(&ends);
        PyBuffer_Release(&spec);
        goto done;
    }
    fixed = 1;
    nterms = spec.len / (Py_ssize_t)(4 * sizeof(int64_t));
    outputs = ends.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t nweights = weights.len / (Py_ssize_t)sizeof(double);
    if (spec.len % (Py_ssize_t)(4 * sizeof(int64_t)) || n < 0 || out.len != n * outputs * (Py_ssize_t)sizeof(double)) {
        PyErr_Format(PyExc_ValueError, "weighted_sums: terms are not whole (kind, input, offset, width) rows, or out "
                                       "is not %zd rows x %zd outputs", n, outputs);
        goto done;
    }
    const int64_t *e = ends.buf;
    for (Py_ssize_t j = 0; j < outputs; j++)
        if (e[j] < (j ? e[j - 1] : 0) || e[j] > nterms) {
            PyErr_SetString(PyExc_ValueError, "weighted_sums: ends must rise, within the terms");
            goto done;
        }
    terms = PyMem_Calloc((size_t)(nterms ? nterms : 1), sizeof(Term));
    if (terms == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const int64_t *s = spec.buf;
    for (Py_ssize_t t = 0; t < nterms; t++, s += 4) {
        const int64_t kind = s[0], input = s[1], offset = s[2], width = s[3];
        const int reads = kind != TERM_CONSTANT;
        if (kind < TERM_SCALED || kind > TERM_SQUARED_DISTANCE || (reads && (input < 0 || input >= count))
                || offset < 0 || (kind == TERM_LOOKUP ? width < 1 || width > nweights - offset : offset >= nweights)) {
            PyErr_Format(PyExc_ValueError, "weighted_sums: term %zd (kind %lld, input %lld, offset %lld, width %lld) "
                         "reads outside its %zd inputs or %zd weights", t, (long long)kind, (long long)input,
                         (long long)offset, (long long)width, count, nweights);
            goto done;
        }
        terms[t] = (Term){kind, reads ? (const char *)views[input].buf : NULL, reads ? views[input].strides[0] : 0,
                          (const double *)weights.buf + offset, kind == TERM_LOOKUP ? (Py_ssize_t)width : 1};
    }
    Py_BEGIN_ALLOW_THREADS
    bad = run_sums(terms, e, outputs, 0, n, (double *)out.buf, &bad_term);
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        const Term *tm = &terms[bad_term];
        PyObject *code = PyFloat_FromDouble(*(const double *)(tm->x + bad * tm->stride));
        if (code != NULL) {
            PyErr_Format(PyExc_IndexError, "weighted_sums: row %zd: code %R of input %lld has no entry among %zd "
                         "categories", bad, code, (long long)((const int64_t *)spec.buf)[4 * bad_term + 1],
                         tm->width - 1);
            Py_DECREF(code);
        }
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    PyMem_Free(terms);
    if (fixed) {
        PyBuffer_Release(&out);
        PyBuffer_Release(&weights);
        PyBuffer_Release(&ends);
        PyBuffer_Release(&spec);
    }
    for (Py_ssize_t v = 0; v < held; v++)
        if (views[v].obj != NULL)
            PyBuffer_Release(&views[v]);
    PyMem_Free(views);
    return result;
}

/* ---- Set-membership rows of a forest's input (elements/tree.py, CompiledForest._with_sets) ---- */

typedef struct {
    Py_ssize_t col, start, sets, width;  /* category column of XT, first row of full, rows, codes + 1 */
    const double *table;                 /* [sets, width]: 1 in, 0 out; column 0 for unseen codes */
    Py_buffer view;
} SetGroup;

/* 0, or -1 at a code the table has no column for. */
static int fill_memberships(const double *xt, Py_ssize_t m, Py_ssize_t n, const SetGroup *groups, Py_ssize_t count,
                            double *full)
{
    memcpy(full, xt, (size_t)(m * n) * sizeof(double));
    for (Py_ssize_t g = 0; g < count; g++) {
        const SetGroup *grp = &groups[g];
        const double *codes = xt + grp->col * n;
        for (Py_ssize_t r = 0; r < n; r++) {
            const double code = codes[r];
            /* As np.take(table, (np.fmax(code, -1) + 1).astype(intp)), then NaN where code is NaN. */
            const double at = code != code ? 0.0 : (code > -1.0 ? code : -1.0) + 1.0;
            if (!(at < (double)grp->width))
                return -1;
            const Py_ssize_t k = (Py_ssize_t)at;
            for (Py_ssize_t s = 0; s < grp->sets; s++)
                full[(grp->start + s) * n + r] = code != code ? Py_NAN : grp->table[s * grp->width + k];
        }
    }
    return 0;
}

/* memberships(XT, n, groups, full): full = XT's m rows, then per (col, start, table) of ``groups``
 * the rows [start, start + len(table)) of each column's membership: table[:, code + 1], NaN
 * where the code is missing (unseen codes, -1, read column 0).  The GIL is released. */
static PyObject *memberships(PyObject *self, PyObject *args)
{
    PyObject *xt_obj, *groups_obj, *full_obj;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "OnO!O", &xt_obj, &n, &PyList_Type, &groups_obj, &full_obj))
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(groups_obj);
    SetGroup *groups = PyMem_Calloc((size_t)(count ? count : 1), sizeof(SetGroup));
    if (groups == NULL)
        return PyErr_NoMemory();
    Py_buffer xt, full;
    Py_ssize_t held = 0;
    int status = -2;
    if (get(xt_obj, &xt, 0, sizeof(double), "XT") < 0)
        goto free_groups;
    if (get(full_obj, &full, 1, sizeof(double), "full") < 0)
        goto release_xt;
    Py_ssize_t m = n > 0 ? xt.len / (Py_ssize_t)sizeof(double) / n : 0, rows = m;
    for (; held < count; held++) {
        SetGroup *grp = &groups[held];
        PyObject *table;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(groups_obj, held), "nnO", &grp->col, &grp->start, &table))
            goto release;
        if (get(table, &grp->view, 0, sizeof(double), "table") < 0)
            goto release;
        grp->table = grp->view.buf;
        if (grp->view.ndim != 2 || grp->view.shape == NULL) {
            PyErr_SetString(PyExc_ValueError, "memberships: each table must be a 2-D array");
            held++;
            goto release;
        }
        grp->sets = grp->view.shape[0];
        grp->width = grp->view.shape[1];
        if (grp->col < 0 || grp->col >= m || grp->start < m || grp->width < 1) {
            PyErr_SetString(PyExc_ValueError, "memberships: a group's column or first row is out of range");
            held++;
            goto release;
        }
        if (grp->start + grp->sets > rows)
            rows = grp->start + grp->sets;
    }
    if (n < 0 || xt.len != m * n * (Py_ssize_t)sizeof(double) || full.len != rows * n * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "memberships: XT, n and full do not agree with the groups");
        goto release;
    }
    Py_BEGIN_ALLOW_THREADS
    status = fill_memberships(xt.buf, m, n, groups, count, full.buf);
    Py_END_ALLOW_THREADS
    if (status == -1)
        PyErr_SetString(PyExc_IndexError, "memberships: a category code beyond its set table");
release:
    for (Py_ssize_t g = 0; g < held; g++)
        PyBuffer_Release(&groups[g].view);
    PyBuffer_Release(&full);
release_xt:
    PyBuffer_Release(&xt);
free_groups:
    PyMem_Free(groups);
    if (status)
        return NULL;
    Py_RETURN_NONE;
}

/* ---- The input contract's factorisation of text columns, without the GIL ----
 *
 * A column of Python str and missing values (None, a float NaN) as (codes, distinct values):
 * codes in order of first appearance, -1 for a missing value, as Arrow's dictionary_encode
 * gives them.  Any other item (bytes, a number, pd.NA, a str subclass) stops the pass and the
 * caller takes the Arrow path instead, so both paths see the same values.  Two str are equal
 * when their (kind, length, bytes) are: CPython keeps every str in its narrowest kind.
 * Only immutable objects held by the caller's list are read, so the GIL can be released.
 */
typedef struct {
    PyObject *obj;  /* the first item with this text (borrowed: the caller's list holds it) */
    uint64_t hash;
    int64_t code;
} Slot;

typedef struct {
    Slot *slots;       /* open addressing, capacity a power of two, at most half full */
    Py_ssize_t cap;
    PyObject **firsts; /* by code: the first item of each distinct value */
    Py_ssize_t count;
} Uniques;

static uint64_t text_hash(const unsigned char *p, Py_ssize_t bytes, int kind)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)kind;  /* FNV-1a */
    for (Py_ssize_t i = 0; i < bytes; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static int same_text(PyObject *a, PyObject *b)
{
    return a == b || (PyUnicode_KIND(a) == PyUnicode_KIND(b) && PyUnicode_GET_LENGTH(a) == PyUnicode_GET_LENGTH(b)
                      && !memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b),
                                 (size_t)(PyUnicode_GET_LENGTH(a) * PyUnicode_KIND(a))));
}

static Slot *find_slot(Slot *slots, Py_ssize_t cap, PyObject *o, uint64_t h)
{
    for (Py_ssize_t at = (Py_ssize_t)(h & (uint64_t)(cap - 1));; at = (at + 1) & (cap - 1))
        if (slots[at].obj == NULL || (slots[at].hash == h && same_text(slots[at].obj, o)))
            return &slots[at];
}

/* Doubles the table (and the firsts); 0 when out of memory. */
static int grow(Uniques *u)
{
    Py_ssize_t cap = u->cap * 2;
    Slot *slots = PyMem_RawCalloc((size_t)cap, sizeof(Slot));
    PyObject **firsts = PyMem_RawRealloc(u->firsts, (size_t)(cap / 2) * sizeof(PyObject *));
    if (firsts != NULL)
        u->firsts = firsts;
    if (slots == NULL || firsts == NULL) {
        PyMem_RawFree(slots);
        return 0;
    }
    for (Py_ssize_t i = 0; i < u->cap; i++)
        if (u->slots[i].obj != NULL)
            *find_slot(slots, cap, u->slots[i].obj, u->slots[i].hash) = u->slots[i];
    PyMem_RawFree(u->slots);
    u->slots = slots;
    u->cap = cap;
    return 1;
}

/* A short ASCII text (up to 15 bytes) as two words: its bytes, then its length and a set top bit
 * in the last byte.  Equal keys, equal texts; hi is 0 for any other item. */
typedef struct {
    uint64_t lo, hi;
} ShortKey;

static inline ShortKey short_key(PyObject *o)
{
    ShortKey key = {0, 0};
    Py_ssize_t len = PyUnicode_GET_LENGTH(o);
    if (!PyUnicode_IS_COMPACT_ASCII(o) || len > 15)
        return key;
    const unsigned char *p = PyUnicode_1BYTE_DATA(o);
    uint64_t w[2] = {0, (1ULL << 63) | ((uint64_t)len << 56)};
    for (Py_ssize_t j = 0; j < len; j++)
        w[j >> 3] |= (uint64_t)p[j] << (8 * (j & 7));
    key.lo = w[0];
    key.hi = w[1];
    return key;
}

/* 0 when done, 1 at an item of another type, -1 when out of memory.
 *
 * Two small caches answer most items without the table: by address, for columns read by pandas
 * or Arrow, which hold each distinct text as a few shared objects (an address names one live
 * object for the whole pass, as the caller holds every item); and by content, for short ASCII
 * texts made one object per row (JSON, generated frames), without the hash and the compare:
 * 2-3x faster there (0.69 -> 0.28 ms per 100k rows of a 2-letter column). */
static int factorize_items(PyObject *const *items, Py_ssize_t n, int64_t *codes, Uniques *u)
{
    enum { SEEN = 256 };
    struct { PyObject *obj; int64_t code; } seen[SEEN] = {{NULL, 0}};
    struct { ShortKey key; int64_t code; } shorts[SEEN] = {{{0, 0}, 0}};
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = items[i];
        if (i + 64 < n)  /* a column's objects are spread over megabytes: ask for them ahead (-35%) */
            __builtin_prefetch(items[i + 64]);
        size_t at = ((uintptr_t)o >> 4) & (SEEN - 1);  /* objects are 16-byte aligned */
        if (seen[at].obj == o) {
            codes[i] = seen[at].code;
            continue;
        }
        if (o == Py_None || (Py_TYPE(o) == &PyFloat_Type && PyFloat_AS_DOUBLE(o) != PyFloat_AS_DOUBLE(o))) {
            codes[i] = seen[at].code = -1;
            seen[at].obj = o;
            continue;
        }
        if (Py_TYPE(o) != &PyUnicode_Type || !PyUnicode_IS_READY(o))
            return 1;
        const ShortKey key = short_key(o);
        const size_t by = (size_t)(((key.lo ^ key.hi) * 0x9e3779b97f4a7c15ULL) >> 56);
        if (key.hi && shorts[by].key.hi == key.hi && shorts[by].key.lo == key.lo) {
            codes[i] = seen[at].code = shorts[by].code;
            seen[at].obj = o;
            continue;
        }
        int kind = PyUnicode_KIND(o);
        uint64_t h = text_hash(PyUnicode_DATA(o), PyUnicode_GET_LENGTH(o) * kind, kind);
        Slot *s = find_slot(u->slots, u->cap, o, h);
        if (s->obj == NULL) {
            if (2 * (u->count + 1) > u->cap) {
                if (!grow(u))
                    return -1;
                s = find_slot(u->slots, u->cap, o, h);
            }
            s->obj = o;
            s->hash = h;
            s->code = u->count;
            u->firsts[u->count++] = o;
        }
        codes[i] = seen[at].code = s->code;
        seen[at].obj = o;
        if (key.hi) {
            shorts[by].key = key;
            shorts[by].code = s->code;
        }
    }
    return 0;
}

/* factorize_text(items, codes[, address]) -> list of distinct values, or None.
 *
 * ``items`` a list: its items are read with the GIL released (the list holds them).  Otherwise
 * ``address`` is where the caller's contiguous object array ``items`` keeps its len(codes) item
 * pointers: they are read in place, with the GIL held, so no other thread can replace one. */
static PyObject *factorize_text(PyObject *self, PyObject *args)
{
    PyObject *items, *codes_obj;
    Py_ssize_t address = 0;
    if (!PyArg_ParseTuple(args, "OO|n", &items, &codes_obj, &address))
        return NULL;
    int in_place = !PyList_Check(items);
    if (in_place && address == 0) {
        PyErr_SetString(PyExc_TypeError, "factorize_text: items is no list and no address was given");
        return NULL;
    }
    Py_buffer codes;
    if (get(codes_obj, &codes, 1, sizeof(int64_t), "codes") < 0)
        return NULL;
    Py_ssize_t n = codes.len / (Py_ssize_t)sizeof(int64_t);
    if (!in_place && PyList_GET_SIZE(items) != n) {
        PyErr_Format(PyExc_ValueError, "factorize_text: %zd items but room for %zd codes", PyList_GET_SIZE(items), n);
        PyBuffer_Release(&codes);
        return NULL;
    }
    PyObject *const *at = in_place ? (PyObject *const *)address : (PyObject *const *)((PyListObject *)items)->ob_item;
    Uniques u = {PyMem_RawCalloc(64, sizeof(Slot)), 64, PyMem_RawMalloc(32 * sizeof(PyObject *)), 0};
    int status = -1;
    if (u.slots != NULL && u.firsts != NULL) {
        if (in_place) {
            status = factorize_items(at, n, (int64_t *)codes.buf, &u);
        } else {
            Py_BEGIN_ALLOW_THREADS
            status = factorize_items(at, n, (int64_t *)codes.buf, &u);
            Py_END_ALLOW_THREADS
        }
    }
    PyBuffer_Release(&codes);
    PyObject *out = NULL;
    if (status < 0)
        PyErr_NoMemory();
    else if (status > 0)
        out = Py_NewRef(Py_None);
    else if ((out = PyList_New(u.count)) != NULL)
        for (Py_ssize_t i = 0; i < u.count; i++)
            PyList_SET_ITEM(out, i, Py_NewRef(u.firsts[i]));
    PyMem_RawFree(u.slots);
    PyMem_RawFree(u.firsts);
    return out;
}

/* One column of factorize_columns: its items read in place, its codes, what the pass found. */
typedef struct {
    PyObject *const *items;
    int64_t *codes;
    Py_ssize_t n;
    Uniques u;
    int status;  /* factorize_items' answer; -1 also when the tables could not be allocated */
} Column;

typedef struct {
    Column *columns;
    Py_ssize_t count, first, step;  /* this worker's columns: first, first + step, ... */
    PyThread_type_lock done;        /* held while the worker runs (NULL: the calling thread) */
} Share;

static void factorize_share(void *arg)
{
    Share *share = arg;
    for (Py_ssize_t c = share->first; c < share->count; c += share->step) {
        Column *col = &share->columns[c];
        col->status = col->u.slots != NULL && col->u.firsts != NULL
                      ? factorize_items(col->items, col->n, col->codes, &col->u) : -1;
    }
    if (share->done != NULL)
        PyThread_release_lock(share->done);
}

/* factorize_columns(arrays, codes, threads) -> [distinct values or None per column].
 *
 * factorize_text of each contiguous object array in place, the columns shared among up to
 * ``threads`` threads: the caller's and native ones that never take the GIL.  The caller keeps
 * the GIL all along, so no Python code runs anywhere meanwhile and no item can be replaced or
 * freed while the workers read it: a batch's text columns at the speed of several cores, with
 * the safety of the in-place pass. */
static PyObject *factorize_columns(PyObject *self, PyObject *args)
{
    PyObject *arrays, *codes_list;
    int threads;
    if (!PyArg_ParseTuple(args, "O!O!i", &PyList_Type, &arrays, &PyList_Type, &codes_list, &threads))
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(arrays);
    if (PyList_GET_SIZE(codes_list) != count) {
        PyErr_SetString(PyExc_ValueError, "factorize_columns: as many codes arrays as columns are needed");
        return NULL;
    }
    Column *columns = PyMem_Calloc((size_t)(count ? count : 1), sizeof(Column));
    Py_buffer *views = PyMem_Calloc((size_t)(count ? count : 1) * 2, sizeof(Py_buffer));
    PyObject *out = NULL;
    Py_ssize_t held = 0;  /* buffers taken: 2 per column */
    if (columns == NULL || views == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t c = 0; c < count; c++, held += 2) {
        Py_buffer *items = &views[2 * c], *codes = &views[2 * c + 1];
        if (PyObject_GetBuffer(PyList_GET_ITEM(arrays, c), items, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
            goto done;
        if (get(PyList_GET_ITEM(codes_list, c), codes, 1, sizeof(int64_t), "codes") < 0) {
            PyBuffer_Release(items);
            goto done;
        }
        if (items->itemsize != sizeof(PyObject *) || items->format == NULL || strcmp(items->format, "O") != 0
                || items->len / items->itemsize != codes->len / (Py_ssize_t)sizeof(int64_t)) {
            PyErr_SetString(PyExc_ValueError, "factorize_columns: each column must be a contiguous object "
                                              "array as long as its codes");
            held += 2;
            goto done;
        }
        columns[c] = (Column){(PyObject *const *)items->buf, (int64_t *)codes->buf,
                              codes->len / (Py_ssize_t)sizeof(int64_t),
                              {PyMem_RawCalloc(64, sizeof(Slot)), 64, PyMem_RawMalloc(32 * sizeof(PyObject *)), 0},
                              -1};
    }
    Py_ssize_t workers = threads < 1 ? 1 : threads > count ? (count ? count : 1) : threads;
    Share shares[8];
    if (workers > 8)
        workers = 8;
    Py_ssize_t started = 1;  /* share 0 is the calling thread's */
    for (Py_ssize_t w = 0; w < workers; w++)
        shares[w] = (Share){columns, count, w, workers, NULL};
    for (Py_ssize_t w = 1; w < workers; w++, started++) {
        shares[w].done = PyThread_allocate_lock();
        if (shares[w].done == NULL)
            break;
        PyThread_acquire_lock(shares[w].done, WAIT_LOCK);
        if (PyThread_start_new_thread(factorize_share, &shares[w]) == PYTHREAD_INVALID_THREAD_ID) {
            PyThread_release_lock(shares[w].done);
            PyThread_free_lock(shares[w].done);
            shares[w].done = NULL;
            break;
        }
    }
    for (Py_ssize_t w = started; w < workers; w++)  /* threads that could not start: their columns here */
        factorize_share(&shares[w]);
    factorize_share(&shares[0]);
    for (Py_ssize_t w = 1; w < started; w++) {
        PyThread_acquire_lock(shares[w].done, WAIT_LOCK);
        PyThread_release_lock(shares[w].done);
        PyThread_free_lock(shares[w].done);
    }
    if ((out = PyList_New(count)) == NULL)
        goto done;
    for (Py_ssize_t c = 0; c < count; c++) {
        Column *col = &columns[c];
        if (col->status < 0) {
            Py_CLEAR(out);
            PyErr_NoMemory();
            goto done;
        }
        PyObject *found = col->status > 0 ? Py_NewRef(Py_None) : PyList_New(col->u.count);
        if (found == NULL) {
            Py_CLEAR(out);
            goto done;
        }
        for (Py_ssize_t i = 0; col->status == 0 && i < col->u.count; i++)
            PyList_SET_ITEM(found, i, Py_NewRef(col->u.firsts[i]));
        PyList_SET_ITEM(out, c, found);
    }
done:
    for (Py_ssize_t c = 0; columns != NULL && c < count; c++) {
        PyMem_RawFree(columns[c].u.slots);
        PyMem_RawFree(columns[c].u.firsts);
    }
    for (Py_ssize_t v = 0; views != NULL && v < held; v++)
        if (views[v].obj != NULL)
            PyBuffer_Release(&views[v]);
    PyMem_Free(columns);
    PyMem_Free(views);
    return out;
}

static PyMethodDef methods[] = {
    {"descend", descend, METH_VARARGS,
     "descend(XT, n, nodes, roots, steps, out): doubled terminal node of every (row, tree), GIL released."},
    {"descend_sums", descend_sums, METH_VARARGS,
     "descend_sums(XT, n, nodes, roots, steps, values, columns, out): sum_terminals of descend, per column, GIL released."},
    {"numbers", numbers, METH_VARARGS,
     "numbers(nums, kind, fill, out) -> (missing, other): a plain number column typed in one pass, GIL released."},
    {"sum_terminals", sum_terminals, METH_VARARGS,
     "sum_terminals(nodes, values, out): per row of nodes [rows, trees], its values summed tree after tree."},
    {"weighted_sums", weighted_sums, METH_VARARGS,
     "weighted_sums(inputs, n, terms, ends, weights, out): running sums of weighted inputs per output, GIL released."},
    {"memberships", memberships, METH_VARARGS,
     "memberships(XT, n, groups, full): XT's rows, then each (col, start, table) group's membership rows."},
    {"factorize_columns", factorize_columns, METH_VARARGS,
     "factorize_columns(arrays, codes, threads): factorize_text of each object array in place, on threads."},
    {"factorize_text", factorize_text, METH_VARARGS,
     "factorize_text(items, codes[, address]): distinct str in order, codes (-1 missing) filled; None if not all str."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ckernels", "Compiled kernels of the native backend.",
                                    -1, methods};

/* Bumped whenever Node or a signature changes: compiled.py refuses a stale build (same answers or none). */
#define PMMLKIT_KERNELS_ABI 7

PyMODINIT_FUNC PyInit__ckernels(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "ABI", PMMLKIT_KERNELS_ABI) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
