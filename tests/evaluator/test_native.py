from tests.evaluator.conformance import check_backend


def test_native_conformance():
    check_backend("native")
