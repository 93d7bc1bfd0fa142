"""ClusteringModel (centerBased): distances to every center at once; the nearest wins."""
from __future__ import annotations

from xml.etree.ElementTree import Element

import numpy as np

from ....errors import InvalidPmmlError, UnsupportedElement
from ....pmml.fields import child, children, local
from ..compile import Core, register
from ..context import Ctx, Env
from ..result import ModelResult

MEASURES = ("squaredEuclidean", "euclidean", "cityBlock", "chebychev")


def compile_clustering_model(model: Element, ctx: Ctx, path: str) -> Core:
    if model.get("modelClass", "centerBased") != "centerBased":
        raise UnsupportedElement("ClusteringModel modelClass=distributionBased", path, ["centerBased"])
    cm = child(model, "ComparisonMeasure")
    measure = next((local(c.tag) for c in cm if local(c.tag) != "Extension"), "") if cm is not None else ""
    if measure not in MEASURES or (cm is not None and cm.get("kind", "distance") != "distance"):
        raise UnsupportedElement(f"ComparisonMeasure {measure!r}", f"{path}/ComparisonMeasure", MEASURES)
    fields = [(f.get("field", ""), float(f.get("fieldWeight", "1"))) for f in children(model, "ClusteringField")
              if f.get("isCenterField", "true") == "true"]
    clusters = children(model, "Cluster")
    centers = np.array([_center(c, len(fields), f"{path}/Cluster[{i + 1}]") for i, c in enumerate(clusters)])
    labels = tuple(c.get("id") or str(i + 1) for i, c in enumerate(clusters))
    weights = np.array([w for _, w in fields])

    def run(env: Env) -> ModelResult:
        X = np.column_stack([env.get(name) for name, _ in fields])
        ok = ~np.isnan(X)
        diff = np.abs(np.where(ok, X, 0.0)[:, None, :] - centers[None, :, :])
        diff = np.where(ok[:, None, :], diff, 0.0)
        if measure == "chebychev":
            dist = (diff * weights).max(axis=2)
        else:
            terms = diff * diff if measure in ("squaredEuclidean", "euclidean") else diff
            dist = (terms * weights).sum(axis=2)
            # Missing fields: scale up by the share of the weight that was present (PMML adjustment).
            dist = dist * (weights.sum() / np.maximum((ok * weights).sum(axis=1), 1e-300))[:, None]
            if measure == "euclidean":
                dist = np.sqrt(dist)
        return ModelResult(labels=labels, affinity=dist, index=np.argmin(dist, axis=1))
    return run


def _center(cluster: Element, n_fields: int, path: str) -> list[float]:
    array = child(cluster, "Array")
    values = [float(v) for v in (array.text or "").split()] if array is not None else []  # numbers checked
    if len(values) != n_fields:
        raise InvalidPmmlError(f"{path} has {len(values)} center coordinates for {n_fields} center "
                               "ClusteringFields; give one per field")
    return values


register("ClusteringModel", compile_clustering_model)
