from tests.evaluator.conformance import check_backend


def test_jpmml_conformance():
    check_backend("jpmml")
