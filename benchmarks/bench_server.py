"""`pmmlkit serve` against the common baseline (Flask + gunicorn + pypmml), same model, same machine.

    python -m benchmarks bench_server            # or: python benchmarks/bench_server.py [--seconds 5] [--rounds 3]

Starts, on 127.0.0.1 with the same number of worker processes each: the baseline
(gunicorn + Flask + pypmml), ``pmmlkit serve`` without batching, with batching as shipped
(--batch-timeout-micros 0) and with a 1 ms batch timeout. wrk drives every scenario for a
fixed duration with keep-alive connections (the baseline's sync workers close every
connection, so wrk reconnects: that is part of its cost), rounds taken in turns so a
noisy spell hits every server alike. req/s is the median round, p50/p99 the median of the
rounds' percentiles. wrk runs on the same cores as the servers. Prints a markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.faults.live_server import stop as stop_server  # noqa: E402  (needs the sys.path line above)

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


# --- wrk -----------------------------------------------------------------------

def wrk_script(path: Path, target: str, bodies: list[bytes]) -> Path:
    """A wrk Lua script POSTing ``bodies`` in turn to ``target``."""
    quoted = ",\n".join("[==[" + b.decode() + "]==]" for b in bodies)
    path.write_text(f"""bodies = {{{quoted}}}
i = 0
headers = {{["Content-Type"] = "application/json"}}
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "{target}", headers, bodies[i])
end
""")
    return path


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(port: int, script: Path, *, connections: int, seconds: float) -> dict:
    """One wrk run: req/s, p50 and p99 in ms, and failed requests (non-2xx, socket errors)."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script),
           f"http://127.0.0.1:{port}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    pct = {m[0]: float(m[1]) * _UNITS[m[2]] for m in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "p50": pct.get("50", float("nan")), "p99": pct.get("99", float("nan")), "errors": errors}


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


SERVERS = {  # label -> extra `pmmlkit serve` options
    "pmmlkit serve, no batching": ["--max-batch-size", "0"],
    "pmmlkit serve, batching (timeout 0, as shipped)": [],
    "pmmlkit serve, batching (timeout 1 ms)": ["--batch-timeout-micros", "1000"],
}
BASELINE = "flask + gunicorn + pypmml"
# (scenario, records per request, connections, servers): the servers of each scenario
SCENARIOS = [("1 record/request", 1, 16, [BASELINE, *SERVERS]),
             ("1 record/request", 1, 64, [BASELINE, *SERVERS]),
             ("100 records/request", 100, 16, list(SERVERS)),
             ("a lone client, 1 record/request", 1, 1, list(SERVERS))]


def run(*, seconds: float, workers: int, backend: str, rounds: int) -> list[dict]:
    from pmmlkit.repository.store import Repository

    if shutil.which("wrk") is None:
        raise SystemExit("bench_server needs wrk (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="pmmlkit-bench-server-"))
    pmml = ctr_pmml()
    (work / "ctr.pmml").write_bytes(pmml)
    repo = Repository(str(work / "models"))
    repo.publish("ctr", pmml)
    recs = records(2000)
    scripts = {
        (1, False): wrk_script(work / "single.lua", "/v1/models/ctr:predict",
                               [json.dumps({"instances": [r]}).encode() for r in recs[:500]]),
        (100, False): wrk_script(work / "hundred.lua", "/v1/models/ctr:predict",
                                 [json.dumps({"instances": recs[i:i + 100]}).encode() for i in range(0, 2000, 100)]),
        (1, True): wrk_script(work / "plain.lua", "/predict", [json.dumps(r).encode() for r in recs[:500]]),
    }
    ports: dict[str, int] = {}
    procs = []
    try:
        for label, options in SERVERS.items():
            ports[label] = _free_port()
            procs.append(_start([sys.executable, "-m", "pmmlkit", "serve", "--repo", repo.root,
                                 "--port", str(ports[label]), "--workers", str(workers), "--backend", backend,
                                 "--log-level", "warning", *options],
                                ports[label], "/readyz", env={}, log=work / f"serve-{len(procs)}.log"))
        ports[BASELINE] = _free_port()
        procs.append(_start([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b",
                             f"127.0.0.1:{ports[BASELINE]}", "--chdir", str(ROOT / "benchmarks" / "baselines"),
                             "--log-level", "warning", "flask_pypmml:app"],
                            ports[BASELINE], "/predict", env={"BASELINE_PMML": str(work / "ctr.pmml")},
                            log=work / "baseline.log"))
        runs = [(scenario, per, conns, server) for scenario, per, conns, servers in SCENARIOS for server in servers]
        for _, per, conns, server in runs:  # warm-up: caches, connections, the JVM of the baseline
            wrk(ports[server], scripts[per, server == BASELINE], connections=conns, seconds=1)
        measured: dict[tuple, list[dict]] = {r: [] for r in runs}
        for _ in range(rounds):
            for r in runs:
                _, per, conns, server = r
                measured[r].append(wrk(ports[server], scripts[per, server == BASELINE], connections=conns,
                                       seconds=seconds))
    finally:
        for proc in procs:
            stop_server(proc)
    return [{"scenario": scenario, "server": server, "records": per, "connections": conns,
             **{k: float(np.median([m[k] for m in measured[scenario, per, conns, server]]))
                for k in ("rps", "p50", "p99")},
             "errors": sum(m["errors"] for m in measured[scenario, per, conns, server])}
            for scenario, per, conns, server in runs]


def table(results: list[dict], *, workers: int, seconds: float, rounds: int) -> str:
    baseline = {r["connections"]: r["rps"] for r in results if r["server"] == BASELINE}
    lines = [f"{os.cpu_count()} cores, {workers} worker processes per server, wrk (1 thread) for {seconds:g} s "
             f"per run, {rounds} rounds in turns; req/s is the median round, p50/p99 the median of the "
             "rounds' percentiles",
             "", "| scenario | server | connections | req/s | records/s | p50 ms | p99 ms | errors "
             "| req/s vs baseline |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        base = baseline.get(r["connections"]) if r["records"] == 1 else None
        ratio = f"{r['rps'] / base:.1f}x" if base else ""
        lines.append(f"| {r['scenario']} | {r['server']} | {r['connections']} | {r['rps']:.0f} | "
                     f"{r['rps'] * r['records']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="duration of one wrk run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes for each server")
    parser.add_argument("--backend", default="auto", help="pmmlkit serve --backend")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per scenario, taken in turns")
    args = parser.parse_args(argv)
    results = run(seconds=args.seconds, workers=args.workers, backend=args.backend, rounds=args.rounds)
    print(table(results, workers=args.workers, seconds=args.seconds, rounds=args.rounds))


if __name__ == "__main__":
    main()
