"""Hardened loading: hostile or broken files never reach a backend."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from pmmlkit import Evaluator
from pmmlkit.cli import main
from pmmlkit.errors import InvalidPmmlError, PmmlTooLargeError, UnsafePmmlError
from pmmlkit.evaluator import jvm
from pmmlkit.pmml import loader
from pmmlkit.repository.store import Repository
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


# --- the DOCTYPE ban in every encoding expat accepts (issue 13.3) -------------------------

_BOMB_BODY = ('<!DOCTYPE PMML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
              '<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header description="&b;"/></PMML>')
_DECL16 = '<?xml version="1.0" encoding="UTF-16"?>'
WIDE = {
    "utf-16-le, no BOM": _BOMB_BODY.encode("utf-16-le"),
    "utf-16-be, no BOM": _BOMB_BODY.encode("utf-16-be"),
    "utf-16-le, declared, no BOM": (_DECL16 + _BOMB_BODY).encode("utf-16-le"),
    "utf-16-be, declared, no BOM": (_DECL16 + _BOMB_BODY).encode("utf-16-be"),
    "utf-32-le, no BOM": _BOMB_BODY.encode("utf-32-le"),
    "utf-32-be, no BOM": _BOMB_BODY.encode("utf-32-be"),
    "utf-32 with BOM": _BOMB_BODY.encode("utf-32"),
    "utf-16 with BOM": _BOMB_BODY.encode("utf-16"),
}


@pytest.mark.parametrize("raw", WIDE.values(), ids=WIDE.keys())
def test_wide_encodings_are_refused(raw, gateway_untouched):
    with pytest.raises(UnsafePmmlError, match="only UTF-8 PMML is accepted"):
        loader.parse(raw)
    for backend in ("native", "jpmml", "pypmml"):
        with pytest.raises(UnsafePmmlError, match="only UTF-8 PMML is accepted"):
            Evaluator.from_bytes(raw, backend=backend)


EXPAT_UTF16 = [k for k in WIDE if k.startswith("utf-16") and k.endswith("no BOM")]


@pytest.mark.parametrize("name", EXPAT_UTF16)
def test_expat_itself_refuses_the_doctype_when_the_byte_checks_miss_it(name, monkeypatch):
    """The byte checks are a fast first pass: with both disabled, expat's prolog pass still refuses.

    expat reads UTF-16 without a byte order mark; UTF-32 it refuses as not well-formed.
    """
    raw = WIDE[name]
    monkeypatch.setattr(loader, "_check_encoding", lambda raw, source: None)
    monkeypatch.setattr(loader, "_FORBIDDEN", re.compile(rb"(?!x)x"))  # never matches
    with pytest.raises(UnsafePmmlError, match=r"<!DOCTYPE> declaration is refused|declared encoding='UTF-16'"):
        loader.parse(raw)
    with pytest.raises(UnsafePmmlError, match="<!DOCTYPE> declaration is refused"):
        loader.parse(_BOMB_BODY.encode())


@pytest.mark.parametrize("raw, words", [
    (b"<?xml version='1.0' encoding='ISO-8859-1'?><PMML/>", "declared encoding='ISO-8859-1'"),
    (b"\xef\xbb\xbf<?xml version='1.0' encoding='UTF-16'?><PMML/>", "declared encoding='UTF-16'"),
    (b"  \x00<\x00P\x00", "UTF-16 or UTF-32 without a byte order mark"),
])
def test_only_utf8_is_accepted(raw, words):
    with pytest.raises(UnsafePmmlError, match=re.escape(words)):
        loader.parse(raw)


@pytest.mark.parametrize("backend", ["native", "jpmml", "pypmml"])
def test_utf8_with_bom_and_ascii_declaration_load(backend):
    body = logistic_pmml().replace(b'encoding="UTF-8"', b'encoding="US-ASCII"')
    assert loader.parse(b"\xef\xbb\xbf" + body).raw == body
    ev = Evaluator.from_bytes(b"\xef\xbb\xbf" + body, backend=backend)  # PMML4S refused the BOM
    assert ev.predict({"x1": 1.0, "x2": 3, "device": "ios"})["predicted_y"] == "no"


@pytest.mark.parametrize("name", ["utf-16-le, no BOM", "utf-32-be, no BOM"])
def test_wide_encodings_are_refused_by_validate_and_the_repository(tmp_path, name, gateway_untouched):
    raw = WIDE[name]
    path = tmp_path / "bomb.pmml"
    path.write_bytes(raw)
    r = CliRunner().invoke(main, ["validate", "-m", str(path)])
    assert r.exit_code != 0 and "only UTF-8 PMML is accepted" in r.output, r.output
    root = str(tmp_path / "models")
    Repository(root).publish("bomb", raw, manifest={})  # publish stores bytes; loading is the guard
    r = CliRunner().invoke(main, ["validate", "-m", "bomb", "--repo", root])
    assert r.exit_code != 0 and "only UTF-8 PMML is accepted" in r.output, r.output
    with pytest.raises(UnsafePmmlError):
        Evaluator.load("bomb", repo=root)
