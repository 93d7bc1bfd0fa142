/* Compiled kernels of the native backend: tree-ensemble descent, without the GIL.
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

/* Rows [b, b + lanes) through the tree at node ``root``, in lockstep, until none moves. */
static void descend_lanes(const double *const *rows, const Node *nodes, int32_t root, long steps,
                          int64_t *out, Py_ssize_t trees, Py_ssize_t b, int lanes)
{
    int32_t cur[LANES];
    for (int k = 0; k < lanes; k++)
        cur[k] = root;
    for (long s = 0; s < steps; s++) {  /* bounded: a longest path ends every tree */
        int32_t moved = 0;
        for (int k = 0; k < lanes; k++) {
            const Node *nd = &nodes[cur[k]];
            const double x = rows[nd->feature][b + k];
            /* left and right are adjacent: the outcome indexes them (no branch) */
            int32_t next = (&nd->left)[x > nd->threshold];
            next = x != x ? nd->missing : next;
            moved |= next ^ cur[k];
            cur[k] = next;
        }
        if (!moved)
            break;
    }
    for (int k = 0; k < lanes; k++)
        out[(b + k) * trees] = 2 * (int64_t)cur[k];
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
            const double x = rows[nd->feature][r];
            int32_t next = (&nd->left)[x > nd->threshold];
            next = x != x ? nd->missing : next;
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
    for (Py_ssize_t b = start; b < stop; b += LANES) {
        int lanes = (int)(b + LANES < stop ? LANES : stop - b);
        for (Py_ssize_t t = 0; t < trees; t++)
            descend_lanes(rows, nodes, (int32_t)(roots[t] >> 1), steps, out + t, trees, b, lanes);
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

/* descend(XT, n, nodes, roots, steps, out): out[r, t] = doubled terminal of row r in tree t. */
static PyObject *descend(PyObject *self, PyObject *args)
{
    PyObject *xt_obj, *nodes_obj, *roots_obj, *out_obj;
    Py_ssize_t n;
    long steps;
    if (!PyArg_ParseTuple(args, "OnOOlO", &xt_obj, &n, &nodes_obj, &roots_obj, &steps, &out_obj))
        return NULL;
    Py_buffer xt, nodes, roots, out;
    if (get(xt_obj, &xt, 0, sizeof(double), "XT") < 0)
        return NULL;
    if (get(nodes_obj, &nodes, 0, sizeof(Node), "nodes") < 0)
        goto fail_xt;
    if (get(roots_obj, &roots, 0, sizeof(int64_t), "roots") < 0)
        goto fail_nodes;
    if (get(out_obj, &out, 1, sizeof(int64_t), "out") < 0)
        goto fail_roots;
    Py_ssize_t trees = roots.len / (Py_ssize_t)sizeof(int64_t);
    if (n < 0 || (n && xt.len / (Py_ssize_t)sizeof(double) % n) || out.len / (Py_ssize_t)sizeof(int64_t) != n * trees) {
        PyErr_Format(PyExc_ValueError, "descend: XT, out and %zd rows x %zd trees disagree", n, trees);
        goto fail_out;
    }
    /* Where each row of XT starts: a step loads its input without a multiply. */
    Py_ssize_t columns = n ? xt.len / (Py_ssize_t)sizeof(double) / n : 0;
    const double **rows = PyMem_Malloc((columns ? columns : 1) * sizeof(double *));
    if (rows == NULL) {
        PyErr_NoMemory();
        goto fail_out;
    }
    for (Py_ssize_t c = 0; c < columns; c++)
        rows[c] = (const double *)xt.buf + c * n;
    Py_BEGIN_ALLOW_THREADS
    descend_rows(rows, (const Node *)nodes.buf, (const int64_t *)roots.buf, trees, steps, (int64_t *)out.buf, 0, n);
    Py_END_ALLOW_THREADS
    PyMem_Free(rows);
    PyBuffer_Release(&out);
    PyBuffer_Release(&roots);
    PyBuffer_Release(&nodes);
    PyBuffer_Release(&xt);
    Py_RETURN_NONE;
fail_out:
    PyBuffer_Release(&out);
fail_roots:
    PyBuffer_Release(&roots);
fail_nodes:
    PyBuffer_Release(&nodes);
fail_xt:
    PyBuffer_Release(&xt);
    return NULL;
}

static PyMethodDef methods[] = {
    {"descend", descend, METH_VARARGS,
     "descend(XT, n, nodes, roots, steps, out): doubled terminal node of every (row, tree), GIL released."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ckernels", "Compiled kernels of the native backend.",
                                    -1, methods};

/* Bumped whenever Node or a signature changes: compiled.py refuses a stale build (same answers or none). */
#define PMMLKIT_KERNELS_ABI 2

PyMODINIT_FUNC PyInit__ckernels(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "ABI", PMMLKIT_KERNELS_ABI) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
