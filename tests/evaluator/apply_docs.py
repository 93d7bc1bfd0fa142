"""Hand-written PMML documents that put expressions into OutputFields, to compare backends on them."""
from __future__ import annotations

import numpy as np
import pandas as pd

INPUTS = {"x": "double", "z": "double", "i": "integer", "j": "integer", "s": "string", "t": "string"}

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">\n<Header/>\n'


def expression_document(outputs: dict[str, tuple[str, str]], *, transformations: str = "",
                        inputs: dict[str, str] = INPUTS) -> bytes:
    """A regression model scoring 0 whose Output holds each expression: name -> (dataType, XML)."""
    fields = "".join(f'<DataField name="{n}" optype="{"categorical" if t == "string" else "continuous"}" '
                     f'dataType="{t}"/>' for n, t in inputs.items())
    mining = "".join(f'<MiningField name="{n}"/>' for n in inputs)
    outs = "".join(f'<OutputField name="{n}" optype="{"categorical" if t == "string" else "continuous"}" '
                   f'dataType="{t}" feature="transformedValue">{xml}</OutputField>'
                   for n, (t, xml) in outputs.items())
    return (f'{_HEAD}<DataDictionary>{fields}<DataField name="y" optype="continuous" dataType="double"/>'
            f'</DataDictionary><TransformationDictionary>{transformations}</TransformationDictionary>'
            f'<RegressionModel functionName="regression"><MiningSchema><MiningField name="y" usageType="target"/>'
            f'{mining}</MiningSchema><Output>{outs}</Output><RegressionTable intercept="0"/></RegressionModel>'
            f'</PMML>').encode()


def apply(function: str, *args: str, **attrs: str) -> str:
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f'<Apply function="{function}"{extra}>{"".join(args)}</Apply>'


def ref(name: str) -> str:
    return f'<FieldRef field="{name}"/>'


def const(value: str, data_type: str | None = None) -> str:
    dt = f' dataType="{data_type}"' if data_type else ""
    return f"<Constant{dt}>{value}</Constant>"


def frame() -> pd.DataFrame:
    """Rows with missing values in every column, negative and zero numbers, odd strings."""
    nan = np.nan
    return pd.DataFrame({
        "x": [1.5, -2.25, 0.0, nan, 10.0, 3.0, -0.5, 1e10, 2.5, 7.0],
        "z": [2.0, 3.0, nan, 1.0, 0.0, -4.0, 0.5, 3.0, nan, 2.0],
        "i": [7, -7, 0, 3, None, 12, 5, -1, 2, 9],
        "j": [2, 2, 3, None, 4, -5, 2, 3, 1, 4],
        "s": ["Hello", "  padded  ", "", None, "MiXeD cAsE", "a,b;c", "ab12cd", "x", "Straße", "tab\there"],
        "t": ["lo", "d", None, "x", "e", ",", "\\d+", "x", "ß", "e"],
    })


def assert_agrees(raw: bytes, df: pd.DataFrame) -> None:
    """Native equals JPMML-Evaluator through the public Evaluator: the same rows fail, the rest match."""
    from pmmlkit import Evaluator

    native = Evaluator.from_bytes(raw, backend="native", verify=False)
    ref = Evaluator.from_bytes(raw, backend="jpmml", verify=False)
    ours, theirs = native.predict_batch(df, errors="column"), ref.predict_batch(df, errors="column")
    failed, want_failed = ours[native.error_column].notna(), theirs[ref.error_column].notna()
    assert (failed == want_failed).all(), (ours[native.error_column][failed != want_failed].tolist(),
                                           theirs[ref.error_column][failed != want_failed].tolist())
    ok = ~want_failed.to_numpy()
    for name in native.result_names:
        got, want = ours[name].to_numpy()[ok], theirs[name].to_numpy()[ok]
        if pd.api.types.is_numeric_dtype(theirs[name]) and not pd.api.types.is_bool_dtype(theirs[name]):
            np.testing.assert_allclose(got.astype(float), want.astype(float), rtol=1e-9, atol=1e-12, err_msg=name)
        else:
            assert [None if pd.isna(v) else str(v) for v in got] == \
                   [None if pd.isna(v) else str(v) for v in want], name
