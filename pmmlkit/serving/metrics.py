"""Prometheus metrics of the server, summed over its worker processes.

Each app gets its own registry, so several apps (tests) never share counters. With
``--workers N`` the workers write their values to files in ``PROMETHEUS_MULTIPROC_DIR``
(``pmmlkit serve`` makes a temporary one) and whichever worker answers ``/metrics``
reports the sum over all of them; ``pmmlkit_serving_info`` lists each live worker's pid.
The same holds under gunicorn when that variable is set (prometheus_client's
multiprocess mode).
"""
from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Single records score in well under a millisecond natively: resolve down to 0.25 ms.
LATENCY_BUCKETS = (0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0)
LOAD_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def multiprocess() -> bool:
    """Whether values live in shared files (several worker processes)."""
    return bool(os.environ.get(MULTIPROC_ENV))


class Metrics:
    """Request, error, reload and repository metrics, labelled by model and version."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.info = Gauge("pmmlkit_serving_info", "A live server process.", ["pid"], registry=r,
                          multiprocess_mode="liveall")
        self.info.labels(str(os.getpid())).set(1)
        # Label children already made, by label values (bounded: served models, versions, endpoints).
        self._request_children: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}
        self._record_children: dict[tuple[str, str], Any] = {}
        self.requests = Counter("pmmlkit_serving_requests", "Requests, by endpoint and status code.",
                                ["model", "version", "endpoint", "code"], registry=r)
        self.latency = Histogram("pmmlkit_serving_request_seconds", "Request latency in seconds.",
                                 ["model", "version", "endpoint"], buckets=LATENCY_BUCKETS, registry=r)
        self.records = Counter("pmmlkit_serving_records", "Records scored.",
                               ["model", "version"], registry=r)
        self.errors = Counter("pmmlkit_serving_errors", "Failed requests and rejected records, by kind.",
                              ["model", "version", "kind"], registry=r)
        self.loaded = Gauge("pmmlkit_serving_loaded_versions", "Versions loaded and AVAILABLE.",
                            ["model"], registry=r, multiprocess_mode="livemax")
        self.reloads = Counter("pmmlkit_serving_reload_events", "Version loads and unloads.",
                               ["model", "version", "outcome"], registry=r)
        self.failed_versions = Gauge("pmmlkit_serving_failed_versions",
                                     "Versions in an error state (failed to load, or unreadable entry).",
                                     ["model"], registry=r, multiprocess_mode="livemax")
        self.load_seconds = Histogram("pmmlkit_serving_load_seconds", "Time to load one version.",
                                      ["model"], buckets=LOAD_BUCKETS, registry=r)
        self.repository_up = Gauge("pmmlkit_serving_repository_up",
                                   "1 when the last repository listing succeeded, 0 when it failed.",
                                   registry=r, multiprocess_mode="livemin")
        self.listing_failures = Counter("pmmlkit_serving_listing_failures",
                                        "Repository listings that failed and changed nothing, by model "
                                        "('' = the whole repository root).", ["model"], registry=r)
        self.fallbacks = Counter("pmmlkit_serving_lookup_fallbacks",
                                 "Records scored with a fallback embedding, by lookup name.",
                                 ["model", "version", "lookup"], registry=r)

        # Shadow traffic (--shadow): how a candidate version would have answered, per output.
        self.shadow_records = Counter("pmmlkit_serving_shadow_records",
                                      "Records scored on the shadow version too, by primary and shadow version.",
                                      ["model", "version", "shadow_version"], registry=r)
        self.shadow_compared = Counter("pmmlkit_serving_shadow_compared",
                                       "Records both versions answered, by output field.", ["model", "output"],
                                       registry=r)
        self.shadow_abs_delta = Counter("pmmlkit_serving_shadow_abs_delta",
                                        "Sum of |shadow - primary| of a numeric output; divided by "
                                        "pmmlkit_serving_shadow_compared_total: the mean |delta|.",
                                        ["model", "output"], registry=r)
        self.shadow_flips = Counter("pmmlkit_serving_shadow_flips",
                                    "Records whose label (a categorical output) differs between the versions, "
                                    "or whose value one version has and the other lacks.",
                                    ["model", "output"], registry=r)
        self.shadow_error_mismatches = Counter("pmmlkit_serving_shadow_error_mismatches",
                                               "Records one version answered and the other refused.", ["model"],
                                               registry=r)
        # Live drift (monitoring.py): the inputs of the last records against the training profile.
        self.input_psi = Gauge("pmmlkit_serving_input_psi",
                               "PSI of an input field over the last 10,000 records against the training "
                               "profile (several workers: the largest).", ["model", "version", "field"],
                               registry=r, multiprocess_mode="livemax")
        self.unseen_values = Counter("pmmlkit_serving_unseen_values",
                                     "Records whose value of a categorical input was never seen in training.",
                                     ["model", "version", "field"], registry=r)
        self.shadow_skipped = Counter("pmmlkit_serving_shadow_skipped",
                                      "Requests not shadowed: too many in flight, or the shadow call failed.",
                                      ["model", "reason"], registry=r)

    def observe(self, *, model: str, version: str, endpoint: str, code: int, seconds: float) -> None:
        key = (model, version, endpoint, code)
        children = self._request_children.get(key)
        if children is None:  # labels() costs a lock and a dict walk: once per label set
            children = (self.requests.labels(model, version, endpoint, str(code)),
                        self.latency.labels(model, version, endpoint))
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def scored(self, *, model: str, version: str, records: int) -> None:
        """Records scored by one call."""
        child = self._record_children.get((model, version))
        if child is None:
            child = self._record_children[model, version] = self.records.labels(model, version)
        child.inc(records)

    def error(self, *, model: str, version: str, kind: str, count: int = 1) -> None:
        self.errors.labels(model, version, kind).inc(count)

    def reload(self, *, model: str, version: int, outcome: str) -> None:
        self.reloads.labels(model, str(version), outcome).inc()

    def exposition(self) -> bytes:
        if not multiprocess():
            return generate_latest(self.registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        combined = CollectorRegistry()
        MultiProcessCollector(combined)
        return generate_latest(combined)

    def close(self) -> None:
        """This process is going away: its live gauges leave the sum (counters stay counted)."""
        if multiprocess():
            from prometheus_client.multiprocess import mark_process_dead

            mark_process_dead(os.getpid())
