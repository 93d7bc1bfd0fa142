from tests.evaluator.conformance import check_backend


def test_pypmml_conformance():
    check_backend("pypmml")
