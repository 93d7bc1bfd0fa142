"""The drift report renders in a real browser: no console error, every chart loaded, no network."""
from __future__ import annotations

import json
import re

from pmmlkit.insight import profile_frame
from pmmlkit.insight.drift import drift
from pmmlkit.insight.files import drift_files, write_files

from .browser import browser, render  # noqa: F401 - the fixture
from .test_drift import COLUMNS, frame


def test_drift_report_renders_with_its_charts(tmp_path, browser) -> None:  # noqa: F811
    profile = profile_frame(frame(3000, seed=0), COLUMNS)
    report = drift(profile, frame(2000, seed=2, mean=52.0, oses=("ios", "android", "tablet")))
    paths = write_files(str(tmp_path / "report"), drift_files(report, title="ctr: drift"))
    names = sorted(p.rsplit("report/", 1)[1] for p in paths)
    assert names == ["drift.html", "drift.json", "plots/drift-00-os.svg", "plots/drift-01-age.svg"]
    html = (tmp_path / "report" / "drift.html").read_text()
    assert not re.search(r"(src|href)=\"https?:", html), "the report must not reach the network"
    saved = json.loads((tmp_path / "report" / "drift.json").read_text())
    assert saved["drifted"] == ["os", "age"] and saved["fields"][0]["unseen"]["tablet"] > 0

    seen = render(browser, tmp_path / "report" / "drift.html", tmp_path / "drift.png")
    assert seen.title == "ctr: drift"
    assert seen.console_errors == []
    assert seen.images == 2 and seen.images_loaded == 2
    assert seen.screenshot.stat().st_size > 10_000  # a real picture, not a blank page


def test_no_drift_report_has_no_charts(tmp_path) -> None:
    profile = profile_frame(frame(3000, seed=0), COLUMNS)
    files = drift_files(drift(profile, frame(2000, seed=1)), title="ctr: drift")
    assert sorted(files) == ["drift.html", "drift.json"]
    assert b"no field drifted" in files["drift.html"]
