"""Insight into a model's data: training profiles and drift of new data against them.

profile.py describes a table column by column (histogram bins, category frequencies, missing
rate) as plain JSON that lives beside a model version; drift.py compares a new batch with
such a profile (PSI and a chi-square test per field). Pure NumPy/pandas: no Spark, no JVM.
"""
from .drift import DEFAULT_THRESHOLD, DriftReport, FieldDrift, drift
from .profile import Profile, profile_frame

__all__ = ["DEFAULT_THRESHOLD", "DriftReport", "FieldDrift", "Profile", "drift", "profile_frame"]
