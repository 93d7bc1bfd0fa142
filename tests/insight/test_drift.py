"""Profiles and drift: statistics against SciPy, PSI against its formula, unseen categories."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from pmmlkit.errors import ConfigError
from pmmlkit.insight import Profile, profile_frame
from pmmlkit.insight.drift import drift
from pmmlkit.insight.stats import chi_square, psi, upper_gamma

COLUMNS = [("age", "numeric"), ("os", "categorical")]


def frame(n: int, *, seed: int, mean: float = 40.0, oses: tuple[str, ...] = ("ios", "android")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(mean, 10, n)
    age[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"age": age, "os": rng.choice(list(oses), n)})


@pytest.mark.parametrize("dof,x", [(1, 0.5), (3, 2.0), (9, 30.0), (20, 5.0), (50, 80.0), (7, 1e-3), (4, 300.0)])
def test_chi_square_survival_matches_scipy(dof: int, x: float) -> None:
    assert upper_gamma(dof / 2, x / 2) == pytest.approx(scipy.stats.chi2.sf(x, dof), rel=1e-10, abs=1e-300)


def test_psi_is_the_textbook_formula() -> None:
    e, a = np.array([50.0, 30.0, 20.0]), np.array([30.0, 30.0, 40.0])
    want = sum((ai - ei) * math.log(ai / ei) for ei, ai in zip([0.5, 0.3, 0.2], [0.3, 0.3, 0.4]))
    assert psi(e, a) == pytest.approx(want, rel=1e-12)
    assert psi(e, e) == 0.0


def test_chi_square_statistic_matches_scipy() -> None:
    e, a = np.array([50.0, 30.0, 20.0]), np.array([35.0, 30.0, 35.0])
    stat, p = chi_square(e, a)
    ref = scipy.stats.chisquare(a, e / e.sum() * a.sum())
    assert (stat, p) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-10)


def test_same_distribution_does_not_drift_and_a_shift_does() -> None:
    profile = Profile.from_json(profile_frame(frame(5000, seed=0), COLUMNS).to_json())
    same = drift(profile, frame(3000, seed=1))
    assert same.drifted == [] and all(f.psi < 0.05 for f in same.fields)
    shifted = drift(profile, frame(3000, seed=2, mean=52.0, oses=("ios", "android", "tablet")))
    assert {f.name for f in shifted.drifted} == {"age", "os"}
    os_drift = next(f for f in shifted.fields if f.name == "os")
    assert set(os_drift.unseen) == {"tablet"} and 900 < os_drift.unseen["tablet"] < 1100
    assert os_drift.p_value < 1e-12


def test_missing_values_are_a_bin_of_their_own() -> None:
    profile = profile_frame(frame(2000, seed=0), COLUMNS)
    batch = frame(2000, seed=3)
    batch.loc[: 999, "age"] = None  # half the batch arrives empty
    age = next(f for f in drift(profile, batch).fields if f.name == "age")
    assert age.missing_rate > 0.5 and age.training_missing_rate < 0.1 and age.psi > 0.2


def test_numeric_bins_hold_every_row_and_reuse_training_edges() -> None:
    profile = profile_frame(frame(1000, seed=0), COLUMNS)
    age = profile.columns["age"]
    assert sum(age.counts) + age.missing == 1000 and len(age.counts) == len(age.edges) + 1
    counts, unseen = age.bin_counts(pd.Series([-1e9, 1e9, None, "abc"]))
    assert counts.tolist() == [1, *[0] * (len(age.edges) - 1), 1, 2] and unseen == {}


def test_categories_compare_as_canonical_text() -> None:
    profile = profile_frame(pd.DataFrame({"hour": [1, 2, 2, 3]}), [("hour", "categorical")])
    counts, unseen = profile.columns["hour"].bin_counts(pd.Series(["1", 2.0, "7"]))
    assert unseen == {"7": 1} and counts.sum() == 3


def test_bad_inputs_are_named() -> None:
    profile = profile_frame(frame(100, seed=0), COLUMNS)
    with pytest.raises(ConfigError, match="lacks the profiled field.*'os'"):
        drift(profile, frame(100, seed=1).drop(columns="os"))
    with pytest.raises(ConfigError, match="threshold"):
        drift(profile, frame(100, seed=1), threshold=0)
    with pytest.raises(ConfigError, match="not a pmmlkit data profile"):
        Profile.from_json("{}")
    with pytest.raises(ConfigError, match="absent"):
        profile_frame(frame(10, seed=0), [("nope", "numeric")])
