"""`pmmlkit serve` against the common baseline (Flask + gunicorn + pypmml), same model, same machine.

    python benchmarks/bench_server.py [--requests 4000] [--max-seconds 20] [--workers 2] [--rounds 5]

Starts both servers on 127.0.0.1, warms them up, then drives each scenario in rounds
(taken in turns) with a bounded load: a fixed request count per round, a duration cap, 16 concurrent keep-alive
connections (the baseline's sync gunicorn workers close every connection, so its
clients reconnect: that is part of its cost). The client runs on the same cores
as the servers. Prints a markdown table.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.faults.live_server import stop as stop_server  # noqa: E402  (SIGTERM, then kill: as the tests do)

CONCURRENCY = 16

# A CTR logistic regression over the fields of examples/generate_ctr.py, with the
# coefficients of its generating process and mean/mode replacement of missing values.
NUMERIC = {"hour": (0.02, 11.5), "age": (-0.015, 36.0), "bid_price": (0.45, 1.1),
           "ctr_history": (18.0, 0.06), "position": (-0.25, 4.5)}        # name: (weight, mean)
CATEGORICAL = {
    "device": {"android": 0.2, "ios": 0.45, "web": -0.3},
    "site_category": {"news": -0.2, "sports": 0.1, "games": 0.5, "shopping": 0.3, "social": 0.0, "video": 0.2},
    "ad_category": {"travel": 0.15, "finance": -0.35, "retail": 0.25, "auto": -0.1, "gaming": 0.4},
    "country": {"US": 0.0, "GB": 0.05, "DE": -0.05, "FR": 0.0, "IN": 0.1, "BR": 0.05, "JP": -0.1},
}


def ctr_pmml() -> bytes:
    fields, mining, terms = [], [], []
    for name, (weight, mean) in NUMERIC.items():
        fields.append(f'<DataField name="{name}" optype="continuous" dataType="double"/>')
        mining.append(f'<MiningField name="{name}" missingValueReplacement="{mean}"/>')
        terms.append(f'<NumericPredictor name="{name}" coefficient="{weight}"/>')
    for name, effects in CATEGORICAL.items():
        values = "".join(f'<Value value="{v}"/>' for v in effects)
        fields.append(f'<DataField name="{name}" optype="categorical" dataType="string">{values}</DataField>')
        mining.append(f'<MiningField name="{name}" missingValueReplacement="{next(iter(effects))}" '
                      'invalidValueTreatment="asMissing"/>')
        terms += [f'<CategoricalPredictor name="{name}" value="{v}" coefficient="{w}"/>' for v, w in effects.items()]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header description="CTR benchmark model"/>
<DataDictionary>{''.join(fields)}
<DataField name="clicked" optype="categorical" dataType="integer"><Value value="0"/><Value value="1"/></DataField>
</DataDictionary>
<RegressionModel functionName="classification" normalizationMethod="logit">
<MiningSchema><MiningField name="clicked" usageType="target"/>{''.join(mining)}</MiningSchema>
<Output><OutputField name="probability(0)" optype="continuous" dataType="double" feature="probability" value="0"/>
<OutputField name="probability(1)" optype="continuous" dataType="double" feature="probability" value="1"/></Output>
<RegressionTable intercept="-2.4" targetCategory="1">{''.join(terms)}</RegressionTable>
<RegressionTable intercept="0" targetCategory="0"/>
</RegressionModel></PMML>""".encode()


def records(n: int, seed: int = 7) -> list[dict]:
    from examples.generate_ctr import generate

    df = generate(n, seed).drop(columns=["clicked"])
    rows = df.to_dict("records")
    # JSON has no NaN; a missing value is null, and so is the generator's "" category.
    return [{k: (None if v == "" or (isinstance(v, float) and np.isnan(v)) else v) for k, v in r.items()}
            for r in rows]


# --- a small keep-alive HTTP/1.1 load generator --------------------------------

def _request(path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _drive(port: int, requests: list[bytes], *, count: int, max_seconds: float) -> dict:
    """Send ``count`` requests (cycling through ``requests``) over CONCURRENCY connections."""
    latencies: list[float] = []
    errors: list[str] = []
    jobs = itertools.cycle(range(len(requests)))
    remaining = [count]
    deadline = time.perf_counter() + max_seconds

    async def connection() -> None:
        reader = writer = None
        while remaining[0] > 0 and time.perf_counter() < deadline:
            remaining[0] -= 1
            payload = requests[next(jobs)]
            t0 = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(payload)
                status = int((await reader.readline()).split()[1])
                length, close = 0, False
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    key, _, value = line.decode("latin-1").partition(":")
                    key = key.strip().lower()
                    length = int(value) if key == "content-length" else length
                    close = close or (key == "connection" and value.strip().lower() == "close")
                body = await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
                errors.append(repr(e))
                writer, close = None, False
                continue
            latencies.append(time.perf_counter() - t0)
            if status != 200 or b'"error"' in body:
                errors.append(f"{status} {body[:200]!r}")
            if close:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    return {"rps": len(latencies) / elapsed, "latencies": latencies, "errors": errors}


def _summary(rounds: list[dict]) -> dict:
    """Rounds of one scenario: the median round's req/s; latency percentiles over every request."""
    lat = np.array([x for r in rounds for x in r["latencies"]]) * 1000
    errors = [e for r in rounds for e in r["errors"]]
    return {"requests": len(lat), "rps": float(np.median([r["rps"] for r in rounds])),
            "p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
            "p99": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
            "errors": len(errors), "first_error": errors[0] if errors else ""}


# --- servers ----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(cmd: list[str], port: int, ready_path: str, *, env: dict, log: Path) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env={**os.environ, **env},
                            cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[:4]} exited early:\n{log.read_text()}")
        try:
            r = httpx.request("GET" if ready_path != "/predict" else "POST", f"http://127.0.0.1:{port}{ready_path}",
                              json=None if ready_path != "/predict" else records(1)[0], timeout=2)
            if r.status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{cmd[:4]} not ready in 120 s:\n{log.read_text()}")


def run(*, n_requests: int, max_seconds: float, workers: int, backend: str, rounds: int) -> list[dict]:
    from pmmlkit.repository.store import Repository

    work = Path(tempfile.mkdtemp(prefix="pmmlkit-bench-server-"))
    pmml = ctr_pmml()
    (work / "ctr.pmml").write_bytes(pmml)
    repo = Repository(str(work / "models"))
    repo.publish("ctr", pmml)
    recs = records(2000)
    single = [_request("/v1/models/ctr:predict", json.dumps({"instances": [r]}).encode()) for r in recs]
    batches = [_request("/v1/models/ctr:predict", json.dumps({"instances": recs[i:i + 100]}).encode())
               for i in range(0, len(recs), 100)]
    plain = [_request("/predict", json.dumps(r).encode()) for r in recs]

    serve_port, base_port = _free_port(), _free_port()
    serve = _start([sys.executable, "-m", "pmmlkit", "serve", "--repo", repo.root, "--port", str(serve_port),
                    "--workers", str(workers), "--backend", backend, "--log-level", "warning"],
                   serve_port, "/readyz", env={}, log=work / "serve.log")
    baseline = _start([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{base_port}",
                       "--chdir", str(ROOT / "benchmarks" / "baselines"), "--log-level", "warning",
                       "flask_pypmml:app"],
                      base_port, "/predict", env={"BASELINE_PMML": str(work / "ctr.pmml")}, log=work / "baseline.log")
    scenarios = [(f"pmmlkit serve ({backend}), 1 record/request", serve_port, single, 1),
                 (f"pmmlkit serve ({backend}), 100 records/request", serve_port, batches, 100),
                 ("flask + gunicorn + pypmml, 1 record/request", base_port, plain, 1)]
    measured: dict[str, list[dict]] = {label: [] for label, *_ in scenarios}
    try:
        for label, port, reqs, per in scenarios:
            asyncio.run(_drive(port, reqs, count=400, max_seconds=10))  # warm-up: JIT, caches, connections
        # Rounds take turns, so a noisy spell on the shared machine hits every scenario alike.
        for _ in range(rounds):
            for label, port, reqs, per in scenarios:
                count = n_requests if per == 1 else max(n_requests // 10, 100)
                measured[label].append(asyncio.run(_drive(port, reqs, count=count, max_seconds=max_seconds)))
    finally:
        stop_server(serve)
        stop_server(baseline)
    return [{"scenario": label, "records": per, **_summary(measured[label])} for label, _, _, per in scenarios]


def table(results: list[dict], *, workers: int) -> str:
    base = next(r for r in results if r["scenario"].startswith("flask"))["rps"]
    lines = [f"{os.cpu_count()} cores, {workers} worker process(es) per server, {CONCURRENCY} concurrent connections; "
             "req/s is the median round, latencies are over all rounds' requests",
             "", "| scenario | requests | req/s | records/s | p50 ms | p99 ms | errors | req/s vs baseline |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['scenario']} | {r['requests']} | {r['rps']:.0f} | {r['rps'] * r['records']:.0f} | "
                     f"{r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | {r['rps'] / base:.1f}x |")
    errors = [f"{r['scenario']}: {r['first_error']}" for r in results if r["errors"]]
    return "\n".join(lines + ([""] + ["first error: " + e for e in errors] if errors else []))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per single-record scenario")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="duration cap per scenario")
    parser.add_argument("--workers", type=int, default=2, help="worker processes for each server")
    parser.add_argument("--backend", default="auto", help="pmmlkit serve --backend")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per scenario, taken in turns")
    args = parser.parse_args(argv)
    results = run(n_requests=args.requests, max_seconds=args.max_seconds, workers=args.workers,
                  backend=args.backend, rounds=args.rounds)
    print(table(results, workers=args.workers))


if __name__ == "__main__":
    main()
