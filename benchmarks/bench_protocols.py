"""What each protocol of `pmmlkit serve` costs per request: TF Serving, KServe v2 (JSON and binary), MLflow.

    python -m benchmarks bench_protocols      (or: python benchmarks/bench_protocols.py [--requests 300])

One server (1 worker, native backend), the CTR model of bench_server.py, the same records
in every protocol's own body (encoded before timing), sent one after the other over one
keep-alive connection: the latency of a request is the server's work plus one loopback
round trip. Scenarios take turns over the rounds. Prints a markdown table; "p50 vs TF" is
the scenario's median latency over TF Serving's for the same number of records.
"""
from __future__ import annotations

import argparse
import json
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.bench_server import ctr_pmml, records  # noqa: E402  (the same model and records)
from tests.faults.live_server import live_server  # noqa: E402  (start, wait for /readyz, SIGTERM)


def bodies(recs: list[dict]) -> dict[str, tuple[str, bytes, dict[str, str]]]:
    """Scenario -> (path, body, headers): the same records in each protocol's body."""
    js = {"Content-Type": "application/json"}
    columns = {k: [r[k] for r in recs] for k in recs[0]}
    # Missing values: null in JSON; a v2 tensor is typed by the field (FP64 or BYTES).
    types = {k: "BYTES" if any(isinstance(v, str) for v in vs) else "FP64" for k, vs in columns.items()}
    tensors = [{"name": k, "shape": [len(recs)], "datatype": types[k], "data": vs} for k, vs in columns.items()]
    header, raw = _binary_inputs(columns, types)
    csv = ",".join(columns) + "\n" + "".join(",".join("" if r[k] is None else str(r[k]) for k in columns) + "\n"
                                             for r in recs)
    return {
        "TF Serving :predict (instances)": ("/v1/models/ctr:predict", json.dumps({"instances": recs}).encode(), js),
        "KServe v2 infer (JSON)": ("/v2/models/ctr/infer", json.dumps({"inputs": tensors}).encode(), js),
        "KServe v2 infer (binary tensors)": ("/v2/models/ctr/infer", header + raw,
                                             {"Inference-Header-Content-Length": str(len(header)),
                                              "Content-Type": "application/octet-stream"}),
        "MLflow /invocations (dataframe_split)": ("/invocations", json.dumps({"dataframe_split": {
            "columns": list(columns), "data": [list(r.values()) for r in recs]}}).encode(), js),
        "MLflow /invocations (CSV)": ("/invocations", csv.encode(), {"Content-Type": "text/csv"}),
    }


def _binary_inputs(columns: dict[str, list], types: dict[str, str]) -> tuple[bytes, bytes]:
    """Triton's binary tensor format, as tritonclient sends it by default (outputs asked in binary too)."""
    chunks, tensors = [], []
    for name, values in columns.items():
        if types[name] == "FP64":
            raw = np.array([np.nan if v is None else v for v in values], dtype="<f8").tobytes()
        else:
            raw = b"".join(struct.pack("<I", len(b)) + b for b in (("" if v is None else v).encode() for v in values))
        chunks.append(raw)
        tensors.append({"name": name, "shape": [len(values)], "datatype": types[name],
                        "parameters": {"binary_data_size": len(raw)}})
    header = json.dumps({"inputs": tensors, "parameters": {"binary_data_output": True}}).encode()
    return header, b"".join(chunks)


def _time(client, path: str, body: bytes, headers: dict[str, str], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.post(path, content=body, headers=headers)
        out.append(time.perf_counter() - t0)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
    return out


def run(*, n_requests: int, rounds: int) -> list[dict]:
    import httpx

    from pmmlkit.repository.store import Repository

    work = Path(tempfile.mkdtemp(prefix="pmmlkit-bench-protocols-"))
    repo = Repository(str(work / "models"))
    repo.publish("ctr", ctr_pmml())
    recs = records(100)
    cases = [(size, name, *spec) for size in (1, 100) for name, spec in bodies(recs[:size]).items()]
    times: dict[tuple[int, str], list[float]] = {(size, name): [] for size, name, *_ in cases}
    with live_server(repo.root, work / "serve.log", "--backend", "native", "--poll-seconds", "0",
                     "--log-level", "warning") as server, httpx.Client(base_url=server.base) as client:
        for _, _, path, body, headers in cases:
            _time(client, path, body, headers, 50)  # warm-up
        for _ in range(rounds):  # turns: a noisy spell of the shared machine hits every scenario alike
            for size, name, path, body, headers in cases:
                times[(size, name)] += _time(client, path, body, headers, n_requests // rounds)
    results = []
    for (size, name), lat in times.items():
        ms = np.array(lat) * 1000
        results.append({"records": size, "scenario": name, "requests": len(ms), "p50": float(np.median(ms)),
                        "p99": float(np.percentile(ms, 99)), "rps": len(ms) / (ms.sum() / 1000)})
    return results


def table(results: list[dict]) -> str:
    lines = ["| records/request | protocol | requests | p50 ms | p99 ms | req/s (sequential) | p50 vs TF |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for r in results:
        tf = next(x for x in results if x["records"] == r["records"] and x["scenario"].startswith("TF"))
        lines.append(f"| {r['records']} | {r['scenario']} | {r['requests']} | {r['p50']:.2f} | {r['p99']:.2f} | "
                     f"{r['rps']:.0f} | {r['p50'] / tf['p50']:.2f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=450, help="timed requests per scenario")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, taken in turns by the scenarios")
    args = parser.parse_args(argv)
    print(table(run(n_requests=args.requests, rounds=args.rounds)))


if __name__ == "__main__":
    main()
