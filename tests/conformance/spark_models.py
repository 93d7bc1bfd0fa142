"""The Spark ML pipelines of the conformance suite, over the stages JPMML-SparkML 3.4 converts.

Covered: SQLTransformer, Imputer, StringIndexer (string and integer columns), OneHotEncoder,
VectorAssembler, StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler, Bucketizer,
QuantileDiscretizer, Binarizer, Interaction, PolynomialExpansion, ElementwiseProduct, PCA,
ChiSqSelector, VectorIndexer, Tokenizer, RegexTokenizer, StopWordsRemover, NGram,
CountVectorizer, IDF; every regressor and classifier it converts, and KMeans. The domain
decorators and VectorDensifier are in test_convert_extensions.py. Not yet: RFormula,
VectorSlicer, VectorSizeHint, IndexToString, FPGrowth.

Columns (spark_producer.frame): i_num int, d_num double, b_flag boolean, s_cat string and
c_int integer category (all with nulls except c_int), text string; labels y_bin (0/1
double), y_multi (string), y_reg, y_count (Poisson counts), y_pos (positive).
Each entry: name -> (label column, factory of the stages).
"""
from __future__ import annotations

from collections.abc import Callable

IMPUTED = ["i_imp", "d_imp"]


def _base(*, one_hot: bool, vector: str = "features") -> list:
    """SQLTransformer (CASE WHEN, casts), Imputer, StringIndexer (string and integer columns), assembler.

    JPMML-SparkML cannot convert an Imputer over a SQLTransformer's output column
    (IllegalArgumentException in ImputerModelConverter), and over the integer i_num it writes
    a fractional missingValueReplacement that JPMML-Evaluator cannot parse (case
    "imputer_integer"), so the SQL fills the nulls of i_num and b_flag itself.
    """
    from pyspark.ml.feature import Imputer, OneHotEncoder, SQLTransformer, StringIndexer, VectorAssembler

    sql = ("SELECT *, CASE WHEN i_num IS NULL THEN DOUBLE(50.0) ELSE DOUBLE(i_num) END AS i_imp, "
           "CASE WHEN b_flag IS NULL THEN DOUBLE(0.5) WHEN b_flag THEN DOUBLE(1.0) ELSE DOUBLE(0.0) END AS b_num, "
           "DOUBLE(c_int) AS c_dbl FROM __THIS__")
    stages = [SQLTransformer(statement=sql),
              Imputer(inputCols=["d_num"], outputCols=["d_imp"], strategy="mean"),
              StringIndexer(inputCols=["s_cat", "c_int"], outputCols=["s_idx", "c_idx"], handleInvalid="keep")]
    cats = ["s_idx", "c_idx"]
    if one_hot:
        stages.append(OneHotEncoder(inputCols=cats, outputCols=["s_vec", "c_vec"], handleInvalid="keep"))
        cats = ["s_vec", "c_vec"]
    return stages + [VectorAssembler(inputCols=[*IMPUTED, "b_num", *cats], outputCol=vector, handleInvalid="keep")]


def _imputer_integer() -> list:
    """An Imputer straight over the integer column (its mean is fractional)."""
    from pyspark.ml.feature import Imputer, VectorAssembler

    return [Imputer(inputCols=["i_num", "d_num"], outputCols=["i_imp", "d_imp"]),
            VectorAssembler(inputCols=["i_imp", "d_imp"], outputCol="features")]


def _scaled(scaler: str, *, one_hot: bool = True) -> list:
    from pyspark.ml import feature

    cls = getattr(feature, scaler)
    return _base(one_hot=one_hot, vector="raw") + [cls(inputCol="raw", outputCol="features")]


def _numeric_scaled() -> list:
    """The three numeric inputs only, MaxAbs-scaled (JPMML-SparkML scales no categorical index)."""
    from pyspark.ml.feature import MaxAbsScaler, VectorAssembler

    return _base(one_hot=False, vector="unused")[:-1] + [
        VectorAssembler(inputCols=["i_imp", "d_imp", "b_num"], outputCol="raw"),
        MaxAbsScaler(inputCol="raw", outputCol="features")]


def _vector_indexed() -> list:
    """VectorIndexer over raw numbers: b_num (3 values) and c_dbl (4) become categorical, d_imp stays.

    (Over StringIndexer outputs JPMML-SparkML refuses it: "Expected [center, ...] as categories".)
    """
    from pyspark.ml.feature import VectorAssembler, VectorIndexer

    return _base(one_hot=False, vector="unused")[:-1] + [
        VectorAssembler(inputCols=["d_imp", "b_num", "c_dbl"], outputCol="raw"),
        VectorIndexer(inputCol="raw", outputCol="features", maxCategories=5)]


def _buckets() -> list:
    """Bucketizer, QuantileDiscretizer, Binarizer, Interaction, PolynomialExpansion, ElementwiseProduct."""
    from pyspark.ml.feature import (
        Binarizer,
        Bucketizer,
        ElementwiseProduct,
        Interaction,
        PolynomialExpansion,
        QuantileDiscretizer,
        VectorAssembler,
    )
    from pyspark.ml.linalg import Vectors

    return _base(one_hot=False, vector="base") + [
        Bucketizer(inputCol="d_imp", outputCol="d_bucket", splits=[-float("inf"), -1.0, 0.0, 0.5, 1.0, float("inf")]),
        QuantileDiscretizer(inputCol="i_imp", outputCol="i_bucket", numBuckets=4),
        Binarizer(inputCol="d_imp", outputCol="d_bin", threshold=0.25),
        Interaction(inputCols=["i_imp", "d_imp"], outputCol="i_x_d"),
        VectorAssembler(inputCols=["d_imp", "i_imp"], outputCol="pair"),
        PolynomialExpansion(inputCol="pair", outputCol="poly", degree=2),
        ElementwiseProduct(inputCol="pair", outputCol="scaled_pair", scalingVec=Vectors.dense([2.0, 0.5])),
        VectorAssembler(inputCols=["base", "d_bucket", "i_bucket", "d_bin", "i_x_d", "poly", "scaled_pair"],
                        outputCol="features"),
    ]


# Terms kept by CountVectorizer: each becomes a TextIndex, and PMML4S compiles regular
# expressions per row and term (a bigram vocabulary of ~100 took it minutes for 100 rows).
VOCABULARY = 8


def _text(tokenizer: str, *, idf: bool = False) -> list:
    from pyspark.ml.feature import IDF, CountVectorizer, NGram, RegexTokenizer, StopWordsRemover, Tokenizer

    tok = Tokenizer(inputCol="text", outputCol="words") if tokenizer == "plain" else \
        RegexTokenizer(inputCol="text", outputCol="words", pattern="\\s+", toLowercase=True)
    stages = [tok, StopWordsRemover(inputCol="words", outputCol="kept", stopWords=["the", "a"])]
    if idf:  # bigrams, weighted
        stages += [NGram(inputCol="kept", outputCol="grams", n=2),
                   CountVectorizer(inputCol="grams", outputCol="counts", minDF=2, vocabSize=VOCABULARY),
                   IDF(inputCol="counts", outputCol="features")]
    else:
        stages.append(CountVectorizer(inputCol="kept", outputCol="features", minDF=2, vocabSize=VOCABULARY))
    return stages


def _label_index(stages: list) -> list:
    """Index the string label y_multi into `label` (its values come back as the PMML target's)."""
    from pyspark.ml.feature import StringIndexer

    return [*stages, StringIndexer(inputCol="y_multi", outputCol="label")]


def _est(path: str, **params) -> Callable[[], object]:
    def make():
        import importlib

        module, _, cls = path.rpartition(".")
        return getattr(importlib.import_module(module), cls)(**params)
    return make


_R, _C = "pyspark.ml.regression", "pyspark.ml.classification"
TREE = {"maxDepth": 4, "seed": 1}


def _pipe(features: Callable[[], list], estimator: Callable[[], object], *, index_label: bool = False,
          **tail: Callable[[], list]) -> Callable[[], list]:
    def make() -> list:
        stages = features()
        if index_label:
            stages = _label_index(stages)
        for more in tail.values():
            stages += more()
        return [*stages, estimator()]
    return make


def _then(stage_path: str, **params) -> Callable[[], list]:
    return lambda: [_est(stage_path, **params)()]


MODELS: dict[str, tuple[str, Callable[[], list]]] = {
    "linear_regression": ("y_reg", _pipe(lambda: _base(one_hot=True), _est(
        f"{_R}.LinearRegression", labelCol="y_reg"))),
    "glr_gaussian_identity": ("y_reg", _pipe(lambda: _scaled("StandardScaler"), _est(
        f"{_R}.GeneralizedLinearRegression", labelCol="y_reg", family="gaussian", link="identity"))),
    "glr_poisson_log": ("y_count", _pipe(lambda: _scaled("MinMaxScaler"), _est(
        f"{_R}.GeneralizedLinearRegression", labelCol="y_count", family="poisson", link="log"))),
    "glr_gamma_log": ("y_pos", _pipe(lambda: _scaled("MaxAbsScaler"), _est(
        f"{_R}.GeneralizedLinearRegression", labelCol="y_pos", family="gamma", link="log"))),
    # GLR family "tweedie" is left out: JPMML-SparkML 3.4 does not support it.
    "glr_binomial_logit": ("y_bin", _pipe(lambda: _base(one_hot=True), _est(
        f"{_R}.GeneralizedLinearRegression", labelCol="y_bin", family="binomial", link="logit"))),
    "imputer_integer": ("y_reg", _pipe(_imputer_integer, _est(f"{_R}.LinearRegression", labelCol="y_reg"))),
    "decision_tree_reg": ("y_reg", _pipe(lambda: _base(one_hot=False), _est(
        f"{_R}.DecisionTreeRegressor", labelCol="y_reg", **TREE))),
    "random_forest_reg": ("y_reg", _pipe(lambda: _base(one_hot=False), _est(
        f"{_R}.RandomForestRegressor", labelCol="y_reg", numTrees=5, **TREE))),
    "gbt_reg_buckets": ("y_reg", _pipe(_buckets, _est(f"{_R}.GBTRegressor", labelCol="y_reg", maxIter=5, **TREE))),
    "isotonic_reg": ("y_reg", _pipe(lambda: _base(one_hot=False)[:2], _est(
        f"{_R}.IsotonicRegression", labelCol="y_reg", featuresCol="d_imp"))),
    "pca_linear_regression": ("y_reg", _pipe(lambda: _scaled("RobustScaler"), _est(
        f"{_R}.LinearRegression", labelCol="y_reg", featuresCol="pca"),
        pca=_then("pyspark.ml.feature.PCA", k=3, inputCol="features", outputCol="pca"))),
    "logistic_regression_bin": ("y_bin", _pipe(lambda: _base(one_hot=True), _est(
        f"{_C}.LogisticRegression", labelCol="y_bin", maxIter=30))),
    "logistic_regression_multi": ("y_multi", _pipe(lambda: _base(one_hot=True), _est(
        f"{_C}.LogisticRegression", maxIter=30), index_label=True)),
    "decision_tree_cls_vector_indexer": ("y_multi", _pipe(_vector_indexed, _est(
        f"{_C}.DecisionTreeClassifier", **TREE), index_label=True)),
    "random_forest_cls": ("y_bin", _pipe(lambda: _base(one_hot=False), _est(
        f"{_C}.RandomForestClassifier", labelCol="y_bin", numTrees=5, **TREE))),
    "gbt_cls": ("y_bin", _pipe(lambda: _base(one_hot=False), _est(
        f"{_C}.GBTClassifier", labelCol="y_bin", maxIter=5, **TREE))),
    "linear_svc": ("y_bin", _pipe(lambda: _scaled("StandardScaler"), _est(f"{_C}.LinearSVC", labelCol="y_bin",
                                                                         maxIter=30))),
    "mlp": ("y_bin", _pipe(_numeric_scaled, _est(
        f"{_C}.MultilayerPerceptronClassifier", labelCol="y_bin", layers=[3, 4, 2], maxIter=50, seed=1))),
    "chisq_logistic_regression": ("y_bin", _pipe(lambda: _base(one_hot=True), _est(
        f"{_C}.LogisticRegression", labelCol="y_bin", featuresCol="selected", maxIter=30),
        chisq=_then("pyspark.ml.feature.ChiSqSelector", numTopFeatures=5, featuresCol="features",
                    outputCol="selected", labelCol="y_bin"))),
    "naive_bayes_text": ("y_bin", _pipe(lambda: _text("plain"), _est(f"{_C}.NaiveBayes", labelCol="y_bin"))),
    "logistic_regression_text": ("y_multi", _pipe(lambda: _text("regex", idf=True), _est(
        f"{_C}.LogisticRegression", maxIter=30), index_label=True)),
    "kmeans": ("", _pipe(lambda: _scaled("MinMaxScaler"), _est("pyspark.ml.clustering.KMeans", k=3, seed=1))),
}
