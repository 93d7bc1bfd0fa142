"""Contract.check_record's short cut for plain values gives what the per-field rules give, value for value."""
from __future__ import annotations

import math
import struct

import pytest

from pmmlkit.errors import InputError
from pmmlkit.evaluator.contract import Contract
from pmmlkit.pmml import loader

DOC = b"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><DataDictionary>
<DataField name="d" optype="continuous" dataType="double"/>
<DataField name="f" optype="continuous" dataType="float"/>
<DataField name="s" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/></DataField>
<DataField name="t" optype="categorical" dataType="string"/>
<DataField name="m" optype="categorical" dataType="string"><Value value="a"/><Value value="NA" property="missing"/></DataField>
<DataField name="y" optype="continuous" dataType="double"/>
</DataDictionary><RegressionModel functionName="regression"><MiningSchema>
<MiningField name="y" usageType="target"/><MiningField name="d"/><MiningField name="f"/>
<MiningField name="s" invalidValueTreatment="asMissing"/><MiningField name="t"/><MiningField name="m"/>
</MiningSchema><RegressionTable intercept="0"/></RegressionModel></PMML>"""  # noqa: E501 - PMML text reads one element per line

VALUES = [0.1, -0.0, 1e39, -1e39, 3.4028235677973366e38, 1e-46, math.inf, -math.inf, math.nan, 7, True, None, "",
          "a", "b", "c", "NA", "1.5", 2 ** 70]


def _bits(v):
    return ("f", struct.pack("d", v)) if isinstance(v, float) else (type(v).__name__, v)


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_short_cut_equals_the_rules(value):
    contract = Contract(loader.parse(DOC).schema)
    for rule in contract.rules:
        record = {r.field.name: "a" if r.field.data_type == "string" else 1.0 for r in contract.rules}
        record[rule.field.name] = value
        try:
            want = rule.check(value, None)
        except InputError as e:
            with pytest.raises(type(e)):
                contract.check_record(record)
            continue
        assert _bits(contract.check_record(record)[rule.field.name]) == _bits(want), rule.field.name
