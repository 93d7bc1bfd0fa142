"""NaiveBayesModel: log prior + log likelihood of every input, then softmax, as JPMML-Evaluator computes it.

Continuous inputs (TargetValueStats/GaussianDistribution, as JPMML-SkLearn writes GaussianNB)
contribute the normal density floored at ``threshold``; discrete inputs (PairCounts) contribute
count / (the field's count sum for that class), or ``threshold`` where the count is 0. A missing
input, or a category no PairCounts lists, contributes nothing.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import UnsupportedElement
from ....pmml.fields import child, children, required_child
from ..compile import Core, register
from ..context import Ctx, Env
from ..kernels import softmax
from ..result import ModelResult

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)

Contribution = Callable[[Env, float], np.ndarray]  # (rows, threshold) -> log-probability per class


def _counts(el: Element | None, labels: tuple[str, ...], path: str) -> np.ndarray:
    """TargetValueCounts as one count per label (NaN where a label is not listed: it is skipped)."""
    out = np.full(len(labels), np.nan)
    tvc = child(el, "TargetValueCounts") if el is not None else None
    for c in children(tvc, "TargetValueCount") if tvc is not None else []:
        if c.get("value") not in labels:
            raise UnsupportedElement(f"TargetValueCount value={c.get('value')!r} not in BayesOutput", path, labels)
        out[labels.index(c.get("value"))] = float(c.get("count", "nan"))
    return out


def _gaussian(bi: Element, labels: tuple[str, ...], path: str) -> Contribution:
    field = bi.get("fieldName", "")
    mean, var = np.zeros(len(labels)), np.zeros(len(labels))  # a class without a stat is not multiplied
    used = np.zeros(len(labels), dtype=bool)
    for stat in children(required_child(bi, "TargetValueStats", path), "TargetValueStat"):
        dist = child(stat, "GaussianDistribution")
        if dist is None or stat.get("value") not in labels:
            raise UnsupportedElement("TargetValueStat without a GaussianDistribution of a known class",
                                     f"{path}/BayesInput[@fieldName={field!r}]", ["GaussianDistribution"])
        i = labels.index(stat.get("value"))
        mean[i], var[i], used[i] = float(dist.get("mean", "nan")), float(dist.get("variance", "nan")), True
        if not var[i] > 0:  # JPMML-Evaluator 1.7 refuses the attribute on every row
            raise UnsupportedElement(f"GaussianDistribution variance={dist.get('variance')!r} (must be > 0)",
                                     f"{path}/BayesInput[@fieldName={field!r}]", ["variance > 0"])
    sd = np.sqrt(np.where(used, var, 1.0))
    log_norm = np.log(sd) + _LOG_SQRT_2PI  # commons-math NormalDistribution.density, term by term

    def contribution(env: Env, threshold: float) -> np.ndarray:
        x = env.get(field)[:, None]
        z = (x - mean) / sd
        p = np.maximum(np.exp(-0.5 * z * z - log_norm), threshold)  # never below the threshold
        with np.errstate(divide="ignore"):  # a density of 0 under a threshold of 0: log 0 = -inf
            out = np.where(used, np.log(p), 0.0)
        return np.where(np.isnan(x), 0.0, out)
    return contribution


def _pair_counts(bi: Element, labels: tuple[str, ...], ctx: Ctx, threshold: float, path: str) -> Contribution:
    field = bi.get("fieldName", "")
    if child(bi, "DerivedField") is not None:
        raise UnsupportedElement("BayesInput DerivedField", f"{path}/BayesInput[@fieldName={field!r}]",
                                 ["PairCounts", "TargetValueStats"])
    pairs = children(bi, "PairCounts")
    codes = np.array([ctx.encode(field, p.get("value", "")) for p in pairs])
    counts = np.array([_counts(p, labels, path) for p in pairs]).reshape(len(pairs), len(labels))
    sums = np.nansum(counts, axis=0)
    with np.errstate(all="ignore"):
        probs = np.where(counts == 0, threshold, counts / sums)
        logs = np.where(np.isnan(counts), 0.0, np.log(probs))  # an unlisted class is not multiplied
    logs = np.vstack([logs, np.zeros(len(labels))])  # last row: no PairCounts matched, or missing

    def contribution(env: Env, threshold: float) -> np.ndarray:
        x = env.num(field)
        hit = x[:, None] == codes[None, :]
        idx = np.where(hit.any(axis=1), hit.argmax(axis=1), len(codes))
        return logs[idx]
    return contribution


def compile_naive_bayes(model: Element, ctx: Ctx, path: str) -> Core:
    if model.get("functionName") != "classification" or model.get("threshold") is None:
        raise UnsupportedElement("NaiveBayesModel without functionName=classification and a threshold", path,
                                 ["classification with threshold"])
    threshold = float(model.get("threshold", "0"))
    out = child(model, "BayesOutput")
    tvc = child(out, "TargetValueCounts") if out is not None else None
    if tvc is None:
        raise UnsupportedElement("NaiveBayesModel without BayesOutput/TargetValueCounts", path, ["BayesOutput"])
    labels = tuple(c.get("value", "") for c in children(tvc, "TargetValueCount"))
    with np.errstate(divide="ignore"):
        prior = np.log(_counts(out, labels, path))
    parts = []
    for bi in children(required_child(model, "BayesInputs", path), "BayesInput"):
        if child(bi, "TargetValueStats") is not None:
            parts.append(_gaussian(bi, labels, path))
        else:
            parts.append(_pair_counts(bi, labels, ctx, threshold, path))

    def run(env: Env) -> ModelResult:
        logp = np.tile(prior, (env.n, 1))
        for contribution in parts:
            logp = logp + contribution(env, threshold)
        with np.errstate(invalid="ignore"):
            probs = softmax(logp)
        # Every class at probability 0 (log -inf) leaves NaN; JPMML then answers its first class.
        lost = np.isnan(probs).all(axis=1)
        index = np.where(lost, 0, np.argmax(np.where(np.isnan(probs), -np.inf, probs), axis=1))
        return ModelResult(labels=labels, probs=probs, index=index)
    return run


register("NaiveBayesModel", compile_naive_bayes)
