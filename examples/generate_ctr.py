"""A synthetic click-through-rate dataset: ad impressions and whether they were clicked.

The label is drawn from a logistic model of the features, so models can learn
something real; about 4% of every feature is missing (empty string for categories).

    python examples/generate_ctr.py ctr.csv --rows 20000 --seed 7
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

DEVICES = ("android", "ios", "web")
SITE_CATEGORIES = ("news", "sports", "games", "shopping", "social", "video")
AD_CATEGORIES = ("travel", "finance", "retail", "auto", "gaming")
COUNTRIES = ("US", "GB", "DE", "FR", "IN", "BR", "JP")
NUMERIC = ("hour", "age", "bid_price", "ctr_history", "position")
CATEGORICAL = ("device", "site_category", "ad_category", "country")
LABEL = "clicked"
MISSING_RATE = 0.04

# Effects on the log-odds of a click, chosen to look like real CTR data (~15% positives).
_DEVICE_EFFECT = {"android": 0.2, "ios": 0.45, "web": -0.3}
_SITE_EFFECT = {"news": -0.2, "sports": 0.1, "games": 0.5, "shopping": 0.3, "social": 0.0, "video": 0.2}
_AD_EFFECT = {"travel": 0.15, "finance": -0.35, "retail": 0.25, "auto": -0.1, "gaming": 0.4}
_MATCH_BONUS = 0.6  # gaming ads on games sites, retail ads on shopping sites


def generate(n_rows: int, seed: int = 42) -> pd.DataFrame:
    """n_rows impressions; the same seed always gives the same frame."""
    rng = np.random.default_rng(seed)
    hour = rng.integers(0, 24, n_rows)
    age = np.clip(rng.normal(36, 12, n_rows).round(), 16, 80)
    bid_price = rng.lognormal(mean=0.0, sigma=0.5, size=n_rows).round(4)
    ctr_history = rng.beta(2, 30, n_rows).round(5)
    position = rng.integers(1, 9, n_rows)
    device = rng.choice(DEVICES, n_rows, p=[0.5, 0.3, 0.2])
    site = rng.choice(SITE_CATEGORIES, n_rows)
    ad = rng.choice(AD_CATEGORIES, n_rows)
    country = rng.choice(COUNTRIES, n_rows, p=[0.3, 0.1, 0.1, 0.1, 0.2, 0.1, 0.1])

    logit = (
        -2.4
        + 0.6 * np.sin((hour - 6) / 24 * 2 * np.pi)
        - 0.015 * (age - 36)
        + 0.5 * np.log(bid_price + 0.1)
        + 18.0 * ctr_history
        - 0.25 * (position - 1)
        + np.vectorize(_DEVICE_EFFECT.get)(device)
        + np.vectorize(_SITE_EFFECT.get)(site)
        + np.vectorize(_AD_EFFECT.get)(ad)
        + _MATCH_BONUS * (((ad == "gaming") & (site == "games")) | ((ad == "retail") & (site == "shopping")))
    )
    clicked = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype("int64")

    df = pd.DataFrame({
        "hour": hour.astype("float64"), "age": age, "bid_price": bid_price,
        "ctr_history": ctr_history, "position": position.astype("float64"),
        "device": device, "site_category": site, "ad_category": ad, "country": country,
        LABEL: clicked,
    })
    # Missing values after the label is drawn: the label still depends on the true value.
    for col in NUMERIC:
        df.loc[rng.random(n_rows) < MISSING_RATE, col] = np.nan
    for col in CATEGORICAL:
        df.loc[rng.random(n_rows) < MISSING_RATE, col] = ""
    return df


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic CTR dataset as CSV.")
    parser.add_argument("path", help="output CSV path")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    df = generate(args.rows, args.seed)
    tmp = f"{args.path}.tmp"
    df.to_csv(tmp, index=False)
    os.replace(tmp, args.path)  # atomic: a reader never sees half a file
    print(f"wrote {len(df)} rows to {args.path} ({df[LABEL].mean():.1%} clicked)")


if __name__ == "__main__":
    main()
