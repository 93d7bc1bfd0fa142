"""Hardened loading: hostile or broken files never reach a backend."""
from __future__ import annotations

import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import InvalidPmmlError, PmmlTooLargeError, UnsafePmmlError
from pmmlkit.evaluator import jvm
from pmmlkit.pmml import loader
from tests.docs import logistic_pmml

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE PMML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header description="&xxe;"/></PMML>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header description="&lol3;"/></PMML>"""

NOT_PMML = b"""<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>"""


@pytest.fixture()
def gateway_untouched():
    """Proves no backend was asked: the JVM generation does not move."""
    before = jvm.GATEWAY.generation
    yield
    assert jvm.GATEWAY.generation == before


@pytest.mark.parametrize("raw, error, words", [
    (XXE, UnsafePmmlError, "<!DOCTYPE> declaration is refused"),
    (LAUGHS, UnsafePmmlError, "<!DOCTYPE> declaration is refused"),
    (logistic_pmml()[:700], InvalidPmmlError, "not well-formed XML"),
    (NOT_PMML, InvalidPmmlError, "root element is <svg>, not <PMML>"),
    (b"<?xml version='1.0' encoding='UTF-16'?><PMML/>", UnsafePmmlError, "only UTF-8"),
])
@pytest.mark.parametrize("backend", ["jpmml", "pypmml", "auto"])
def test_hostile_or_broken_files_are_refused_before_any_backend(tmp_path, raw, error, words, backend,
                                                                  gateway_untouched):
    path = tmp_path / "model.pmml"
    path.write_bytes(raw)
    with pytest.raises(error, match=words):
        Evaluator.load(path, backend=backend)


def test_xxe_does_not_leak_local_file(tmp_path):
    with pytest.raises(UnsafePmmlError) as e:
        loader.parse(XXE)
    assert "root:" not in str(e.value)


def test_size_cap(tmp_path, monkeypatch):
    path = tmp_path / "model.pmml"
    path.write_bytes(logistic_pmml())
    with pytest.raises(PmmlTooLargeError, match="over the 100-byte cap"):
        loader.load(path, max_bytes=100)
    monkeypatch.setenv("PMMLKIT_MAX_PMML_BYTES", "200")
    with pytest.raises(PmmlTooLargeError):
        Evaluator.load(path)


def test_schema_is_typed():
    s = loader.parse(logistic_pmml()).schema
    assert s.model_type == "RegressionModel"
    assert s.input_names == ("x1", "x2", "device")
    assert s.result_names == ("y", "probability(yes)", "probability(no)")
    device = s.inputs[2]
    assert device.values == ("android", "ios", "web")
    assert device.invalid_value_treatment == "returnInvalid"
    assert s.inputs[0].missing_value_replacement == "1.5"
