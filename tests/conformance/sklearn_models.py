"""The scikit-learn / LightGBM / XGBoost models of the conformance suite, small and fast to fit.

Each entry: name -> (data set, factory of the pipeline steps). The steps go into a
sklearn2pmml PMMLPipeline, as a user of sklearn2pmml writes them.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

SEED = 0


def _numeric_mixed(final: Any, *, domains: bool = False) -> list:
    """Mixed-frame preprocessing: impute, scale, one-hot (string and boolean), then ``final``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

    if domains:
        from sklearn2pmml.decoration import CategoricalDomain, ContinuousDomain

        income = make_pipeline(ContinuousDomain(missing_value_treatment="as_mean",
                                                missing_value_replacement=20000.0), StandardScaler())
        # the replacement must be a valid value: JPMML-SkLearn checks the encoder's categories against it
        city = make_pipeline(CategoricalDomain(missing_value_treatment="as_value", missing_value_replacement="oslo",
                                               invalid_value_treatment="as_missing"),
                             OneHotEncoder(handle_unknown="ignore"))
        age = make_pipeline(ContinuousDomain(), MinMaxScaler())
    else:
        income = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        city = make_pipeline(SimpleImputer(strategy="constant", fill_value="none"), OneHotEncoder())
        age = MinMaxScaler()
    ct = ColumnTransformer([("income", income, ["income"]), ("city", city, ["city"]), ("age", age, ["age"]),
                            ("member", OneHotEncoder(), ["member"]), ("score32", "passthrough", ["score32"])])
    return [("ct", ct), ("model", final)]


def _expression(final: Any) -> list:
    from sklearn.compose import ColumnTransformer
    from sklearn2pmml.preprocessing import ExpressionTransformer

    ct = ColumnTransformer([
        ("ratio", ExpressionTransformer("X['score32'] / (X['age'] + 1.0)"), ["score32", "age"]),
        # two columns: a one-column ExpressionTransformer answers 1-D, which ColumnTransformer refuses
        ("rich", ExpressionTransformer("-1.0 if pandas.isnull(X['income']) else (1.0 if X['income'] > 20000 else 0.0)"),
         ["income", "age"]),
        ("age", "passthrough", ["age"])])
    return [("ct", ct), ("model", final)]


def _ordinal_city(final: Any, numeric: tuple[str, ...] = ("age", "income", "score32")) -> list:
    """City as integer codes, marked categorical for the boosting model."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    city = make_pipeline(SimpleImputer(strategy="constant", fill_value="none"),
                         OrdinalEncoder())
    ct = ColumnTransformer([("city", city, ["city"]),
                            ("num", "passthrough", list(numeric))])
    return [("ct", ct), ("model", final)]


def _m(name: str, **params: Any) -> Callable[[], list]:
    def make() -> list:
        import importlib

        module, _, cls = name.rpartition(".")
        return [("model", getattr(importlib.import_module(module), cls)(**params))]
    return make


TREE = {"max_depth": 4, "random_state": SEED}
FOREST = {"n_estimators": 6, "max_depth": 5, "random_state": SEED}
GBM = {"n_estimators": 12, "max_depth": 3, "learning_rate": 0.2, "random_state": SEED}
HGB = {"max_iter": 12, "max_depth": 3, "random_state": SEED}
LGBM = {"n_estimators": 12, "num_leaves": 7, "min_child_samples": 5, "random_state": SEED, "verbose": -1}
XGB = {"n_estimators": 12, "max_depth": 3, "random_state": SEED}

MODELS: dict[str, tuple[str, Callable[[], list]]] = {
    # regression, diabetes (JPMML-SkLearn writes float fields for tree inputs)
    "linear_regression": ("diabetes", _m("sklearn.linear_model.LinearRegression")),
    "ridge": ("diabetes", _m("sklearn.linear_model.Ridge", alpha=0.5)),
    "decision_tree_reg": ("diabetes", _m("sklearn.tree.DecisionTreeRegressor", **TREE)),
    "random_forest_reg": ("diabetes", _m("sklearn.ensemble.RandomForestRegressor", **FOREST)),
    "extra_trees_reg": ("diabetes", _m("sklearn.ensemble.ExtraTreesRegressor", **FOREST)),
    "gradient_boosting_reg": ("diabetes", _m("sklearn.ensemble.GradientBoostingRegressor", **GBM)),
    "hist_gradient_boosting_reg": ("diabetes", _m("sklearn.ensemble.HistGradientBoostingRegressor", **HGB)),
    "lgbm_reg": ("diabetes", _m("lightgbm.LGBMRegressor", **LGBM)),
    "xgb_reg": ("diabetes", _m("xgboost.XGBRegressor", **XGB)),
    "mlp_reg": ("diabetes", _m("sklearn.neural_network.MLPRegressor", hidden_layer_sizes=(8,), max_iter=300,
                               random_state=SEED)),
    "svr": ("diabetes", _m("sklearn.svm.SVR", C=50.0)),
    "knn_reg": ("diabetes", _m("sklearn.neighbors.KNeighborsRegressor", n_neighbors=5)),
    # float32 input columns
    "linear_regression_f32": ("diabetes32", _m("sklearn.linear_model.LinearRegression")),
    "random_forest_reg_f32": ("diabetes32", _m("sklearn.ensemble.RandomForestRegressor", **FOREST)),
    # binary classification, breast cancer (integer labels 0/1)
    "logistic_regression_bin": ("cancer", _m("sklearn.linear_model.LogisticRegression", max_iter=2000)),
    "random_forest_cls_bin": ("cancer", _m("sklearn.ensemble.RandomForestClassifier", **FOREST)),
    "gradient_boosting_cls_bin": ("cancer", _m("sklearn.ensemble.GradientBoostingClassifier", **GBM)),
    "hist_gradient_boosting_cls_bin": ("cancer", _m("sklearn.ensemble.HistGradientBoostingClassifier", **HGB)),
    "lgbm_cls_bin": ("cancer", _m("lightgbm.LGBMClassifier", **LGBM)),
    "xgb_cls_bin": ("cancer", _m("xgboost.XGBClassifier", **XGB)),
    "svc_bin": ("cancer", _m("sklearn.svm.SVC", C=2.0)),
    "linear_svc_bin": ("cancer", _m("sklearn.svm.LinearSVC", max_iter=5000, random_state=SEED)),
    "gaussian_nb_bin": ("cancer", _m("sklearn.naive_bayes.GaussianNB")),
    # multiclass, iris (string labels)
    "logistic_regression_multi": ("iris", _m("sklearn.linear_model.LogisticRegression", max_iter=2000)),
    "decision_tree_cls": ("iris", _m("sklearn.tree.DecisionTreeClassifier", **TREE)),
    "random_forest_cls": ("iris", _m("sklearn.ensemble.RandomForestClassifier", **FOREST)),
    "extra_trees_cls": ("iris", _m("sklearn.ensemble.ExtraTreesClassifier", **FOREST)),
    "gradient_boosting_cls_multi": ("iris", _m("sklearn.ensemble.GradientBoostingClassifier", **GBM)),
    "hist_gradient_boosting_cls_multi": ("iris", _m("sklearn.ensemble.HistGradientBoostingClassifier", **HGB)),
    "lgbm_cls_multi": ("iris", _m("lightgbm.LGBMClassifier", **LGBM)),
    "xgb_cls_multi": ("iris_codes", _m("xgboost.XGBClassifier", **XGB)),
    "mlp_cls": ("iris", _m("sklearn.neural_network.MLPClassifier", hidden_layer_sizes=(6,), max_iter=500,
                           random_state=SEED)),
    "knn_cls": ("iris", _m("sklearn.neighbors.KNeighborsClassifier", n_neighbors=5)),
    "gaussian_nb_multi": ("iris", _m("sklearn.naive_bayes.GaussianNB")),
    "kmeans": ("iris", _m("sklearn.cluster.KMeans", n_clusters=3, n_init=3, random_state=SEED)),
    # pipelines over int, float (NaN), float32, string (None) and boolean columns
    "ct_logistic_regression": ("mixed_cls", lambda: _numeric_mixed(_new("sklearn.linear_model.LogisticRegression",
                                                                        max_iter=2000))),
    "ct_domains_decision_tree": ("mixed_reg", lambda: _numeric_mixed(_new("sklearn.tree.DecisionTreeRegressor",
                                                                          **TREE), domains=True)),
    "ct_domains_linear_regression": ("mixed_reg", lambda: _numeric_mixed(
        _new("sklearn.linear_model.LinearRegression"), domains=True)),
    "expression_linear_regression": ("mixed_reg", lambda: _expression(_new("sklearn.linear_model.LinearRegression"))),
    "lgbm_categorical_cls": ("mixed_cls", lambda: _ordinal_city(_new("lightgbm.LGBMClassifier", **LGBM))),
    # HistGradientBoosting with categorical_features is left out: JPMML-SkLearn 1.9.41 fails to
    # write it (NullPointerException in JAXB marshalling), so there is no PMML to test.
}

# fit() keyword arguments of a model, when it needs them
FIT_PARAMS: dict[str, dict[str, Any]] = {
    "lgbm_categorical_cls": {"model__categorical_feature": [0]},
}


def _new(path: str, **params: Any) -> Any:
    return _m(path, **params)()[0][1]
