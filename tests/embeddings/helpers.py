"""Tiny tables and a hand-written ranker PMML over embedding features (no Spark needed)."""
from __future__ import annotations

import numpy as np

DIM = 4
USERS = [f"u{i}" for i in range(6)]
ADS = [f"a{i}" for i in range(10)]
DEVICES = ("android", "ios", "web")
MANIFEST = {
    "lookups": [{"key": "user_id", "table": "users", "as": "user"},
                {"key": "ad_id", "table": "ads", "as": "ad"}],
    "features": {"dot": True, "products": True},
    "fallback": {"user": {"default": "mean"}},
}
W_DOT, W_PROD, W_HOUR, INTERCEPT = 0.7, (0.3, -0.2, 0.5, 0.1), 0.05, -1.0
DEVICE_EFFECT = {"android": 0.2, "ios": -0.4, "web": 0.0}


def tables(seed: int = 0, scale: float = 1.0) -> dict[str, tuple[list[str], np.ndarray]]:
    rng = np.random.default_rng(seed)
    return {"users": (USERS, (rng.normal(size=(len(USERS), DIM)) * scale).astype(np.float32)),
            "ads": (ADS, (rng.normal(size=(len(ADS), DIM)) * scale).astype(np.float32))}


def publish(store, seed: int = 0) -> None:
    for table, (ids, vectors) in tables(seed).items():
        store.publish(table, ids, vectors)


def ranker_pmml() -> bytes:
    """Logistic regression over user_ad_dot, user_ad_p0..3, hour and device."""
    fields = ["user_ad_dot", *[f"user_ad_p{i}" for i in range(DIM)], "hour"]
    weights = [W_DOT, *W_PROD, W_HOUR]
    data = "".join(f'<DataField name="{f}" optype="continuous" dataType="double"/>' for f in fields)
    values = "".join(f'<Value value="{d}"/>' for d in DEVICES)
    mining = "".join(f'<MiningField name="{f}"/>' for f in fields)
    numeric = "".join(f'<NumericPredictor name="{f}" coefficient="{w}"/>' for f, w in zip(fields, weights))
    cats = "".join(f'<CategoricalPredictor name="device" value="{d}" coefficient="{w}"/>'
                   for d, w in DEVICE_EFFECT.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header description="embedding ranker test model"/>
  <DataDictionary>{data}
    <DataField name="device" optype="categorical" dataType="string">{values}</DataField>
    <DataField name="clicked" optype="categorical" dataType="string"><Value value="0"/><Value value="1"/></DataField>
  </DataDictionary>
  <RegressionModel functionName="classification" normalizationMethod="logit">
    <MiningSchema><MiningField name="clicked" usageType="target"/>{mining}<MiningField name="device"/></MiningSchema>
    <Output>
      <OutputField name="probability(0)" optype="continuous" dataType="double" feature="probability" value="0"/>
      <OutputField name="probability(1)" optype="continuous" dataType="double" feature="probability" value="1"/>
    </Output>
    <RegressionTable intercept="{INTERCEPT}" targetCategory="1">{numeric}{cats}</RegressionTable>
    <RegressionTable intercept="0" targetCategory="0"/>
  </RegressionModel>
</PMML>
""".encode()


def hand_features(u: np.ndarray, a: np.ndarray) -> dict[str, float]:
    """The features computed independently of pmmlkit.embeddings.features."""
    u64, a64 = u.astype(np.float64), a.astype(np.float64)
    out = {"user_ad_dot": float(sum(float(x) * float(y) for x, y in zip(u64, a64)))}
    out.update({f"user_ad_p{i}": float(u64[i] * a64[i]) for i in range(DIM)})
    return out


AGE_WEIGHTS = (0.01, -0.02, 0.03, 0.005)


def user_tower_fallback_pmml() -> bytes:
    """A fallback "user tower": user_j = age * AGE_WEIGHTS[j], computed from a raw feature."""
    outputs = "".join(
        f'<OutputField name="user_{j}" optype="continuous" dataType="double" feature="transformedValue">'
        f'<Apply function="*"><FieldRef field="age"/><Constant dataType="double">{w}</Constant></Apply>'
        f'</OutputField>' for j, w in enumerate(AGE_WEIGHTS))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header description="fallback user tower"/>
  <DataDictionary>
    <DataField name="age" optype="continuous" dataType="double"/>
    <DataField name="unused" optype="continuous" dataType="double"/>
  </DataDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema><MiningField name="unused" usageType="target"/><MiningField name="age"/></MiningSchema>
    <Output>{outputs}</Output>
    <RegressionTable intercept="0"/>
  </RegressionModel>
</PMML>
""".encode()
