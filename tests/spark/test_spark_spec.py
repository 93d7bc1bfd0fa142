"""Training spec loading and validation: no Spark needed."""
from __future__ import annotations

import json

import pytest

from pmmlkit.errors import ConfigError
from pmmlkit.spark import spec as specs

BASE = {"name": "ctr", "data": "ctr.csv", "label": "clicked", "numeric": ["age"],
        "categorical": ["device"], "estimator": {"type": "gbt_classifier", "params": {"maxIter": 5}}}


def test_valid_spec_round_trips():
    s = specs.from_dict(BASE)
    assert (s.name, s.format, s.features, s.verify_rows) == ("ctr", "csv", ("age", "device"), 10)
    assert s.estimator.params == {"maxIter": 5}
    assert s.validation == specs.ValidationSpec(0.2, 42)
    assert specs.from_dict(s.to_dict()) == s
    json.dumps(s.to_dict())  # goes into the manifest


def test_unknown_estimator_lists_the_supported_ones():
    with pytest.raises(ConfigError) as e:
        specs.from_dict({**BASE, "estimator": {"type": "xgboost"}})
    msg = str(e.value)
    assert "'estimator.type'" in msg and "'xgboost'" in msg
    assert "gbt_classifier" in msg and "kmeans" in msg and "multilayer_perceptron" in msg


def test_missing_label_names_the_key():
    d = dict(BASE)
    del d["label"]
    with pytest.raises(ConfigError, match=r"key 'label' is required"):
        specs.from_dict(d, source="spec.yaml")


@pytest.mark.parametrize("change, message", [
    ({"numeric": [], "categorical": []}, "list at least one feature"),
    ({"estimator": None}, "'estimator' is required"),
    ({"numeric": ["age", "age"]}, "listed twice: age"),
    ({"categorical": ["age"]}, "both numeric and categorical"),
    ({"numeric": ["clicked"]}, "also listed as a feature"),
    ({"data": "ctr.json"}, "cannot tell the format"),
    ({"format": "orc"}, "unknown format 'orc'"),
    ({"validation": {"fraction": 1.5}}, "'validation.fraction': expected a number in (0, 1)"),
    ({"verify_rows": -1}, "'verify_rows': expected an integer >= 0"),
    ({"pipeline": "no_colon"}, "expected 'module:function'"),
    ({"imputer": "max"}, "unknown strategy 'max'"),
    ({"estimators": {}}, "unknown key(s) estimators"),
    ({"estimator": {"type": "gbt_classifier", "parms": {}}}, "unknown key(s) ['parms']"),
])
def test_bad_specs_say_what_is_wrong(change, message):
    with pytest.raises(ConfigError) as e:
        specs.from_dict({**BASE, **change})
    assert message in str(e.value)


def test_a_pipeline_spec_needs_no_features_or_estimator():
    s = specs.from_dict({"name": "m", "data": "d.parquet", "label": "y", "pipeline": "mod:make"})
    assert (s.pipeline, s.format, s.estimator, s.features) == ("mod:make", "parquet", None, ())


def test_yaml_and_json_files_resolve_data_next_to_the_spec(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps(BASE))
    (tmp_path / "s.yaml").write_text("name: ctr\ndata: ctr.csv\nlabel: clicked\nnumeric: [age]\n"
                                     "categorical: [device]\nestimator:\n  type: gbt_classifier\n"
                                     "  params: {maxIter: 5}\n")
    a, b = specs.load(tmp_path / "s.json"), specs.load(tmp_path / "s.yaml")
    assert a == b and a.data == str(tmp_path / "ctr.csv")


def test_unparsable_or_missing_files(tmp_path):
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot parse the spec"):
        specs.load(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="no such spec file"):
        specs.load(tmp_path / "nope.yaml")


def test_overrides_replace_and_revalidate():
    s = specs.from_dict(BASE)
    params = dict([specs.parse_param("maxDepth=3")])
    o = specs.with_overrides(s, {"name": "ctr2", "data": "x.parquet", "params": params})
    assert (o.name, o.data, o.format) == ("ctr2", "x.parquet", "parquet")
    assert o.estimator.params == {"maxIter": 5, "maxDepth": 3}
    swapped = specs.with_overrides(s, {"estimator": "logistic_regression", "params": {"regParam": 0.1}})
    assert swapped.estimator == specs.EstimatorSpec("logistic_regression", {"regParam": 0.1})
    with pytest.raises(ConfigError, match="unknown estimator 'nope'"):
        specs.with_overrides(s, {"estimator": "nope"})
    assert specs.with_overrides(s, {"name": None, "params": {}}) == s


def test_parse_param_reads_yaml_scalars():
    assert specs.parse_param("maxIter=20") == ("maxIter", 20)
    assert specs.parse_param("stepSize=0.1") == ("stepSize", 0.1)
    assert specs.parse_param("family=poisson") == ("family", "poisson")
    assert specs.parse_param("hidden_layers=[4, 3]") == ("hidden_layers", [4, 3])
    with pytest.raises(ConfigError, match="expected key=value"):
        specs.parse_param("maxIter")


@pytest.mark.parametrize("data, fmt", [("ctr.csv.gz", "csv"), ("events.parquet/", "parquet"),
                                       ("s3://b/ctr.PQ", "parquet"), ("ctr.tsv.bz2", "csv")])
def test_the_data_format_follows_the_one_rule_of_pmmlkit_formats(data, fmt):
    # spark/spec.py had its own rule, which refused a compressed CSV (ctr.csv.gz)
    assert specs.from_dict({**BASE, "data": data}).format == fmt
