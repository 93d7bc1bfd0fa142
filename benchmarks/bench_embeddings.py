"""Latency of scoring with embedding lookups (file store, Redis store) next to scoring without lookups.

    python benchmarks/bench_embeddings.py [--iterations 2000] [--redis redis://127.0.0.1:6379/0]

Cases: a single request (one user, one ad) and a ranking batch (one user against
100 candidate ads). "no lookups" scores the same model on precomputed feature
columns with the plain Evaluator (native backend). "asgi" goes through the
server app in process (httpx ASGI transport, JSON in and out). Without --redis a
redis-server is started on a free 127.0.0.1 port (skipped if not installed).
Bounded loops: --iterations per case and a --max-seconds cap per case.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.embeddings.helpers import DIM, MANIFEST, ranker_pmml  # noqa: E402  (the model of the tests)

USERS, ADS, CANDIDATES = 10_000, 1_000, 100


def timed(fn, *, iterations: int, max_seconds: float) -> tuple[float, float, int]:
    """(p50 ms, p99 ms, runs) after a short warm-up."""
    for _ in range(min(20, iterations)):
        fn()
    times, deadline = [], time.perf_counter() + max_seconds
    for _ in range(iterations):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if t > deadline:
            break
    ms = np.asarray(times) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), len(times)


def start_redis() -> tuple[subprocess.Popen | None, str | None]:
    if shutil.which("redis-server") is None:
        return None, None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    return None, None


def cases(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    user = f"u{rng.integers(USERS)}"
    ads = [f"a{i}" for i in rng.choice(ADS, CANDIDATES, replace=False)]
    return {"single": pd.DataFrame({"user_id": [user], "ad_id": [ads[0]], "hour": [9], "device": ["ios"]}),
            f"batch {CANDIDATES}": pd.DataFrame({"user_id": [user] * CANDIDATES, "ad_id": ads,
                                                 "hour": 9, "device": "ios"})}


def asgi_caller(app, frame: pd.DataFrame):
    import httpx

    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    body = ({"instances": frame.to_dict("records")} if len(frame) == 1
            else {"inputs": {c: frame[c].tolist() for c in frame.columns}})

    def call() -> None:
        resp = loop.run_until_complete(client.post("/v1/models/ranker:predict", json=body))
        assert resp.status_code == 200, resp.text
    return call


def main(argv: list[str] | None = None) -> None:
    from pmmlkit.embeddings.features import LookupSpec, build_features
    from pmmlkit.embeddings.lookups import with_lookups
    from pmmlkit.embeddings.store import open_store
    from pmmlkit.evaluator import Evaluator
    from pmmlkit.repository.store import Repository
    from pmmlkit.serving import ServerConfig, create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=10.0)
    parser.add_argument("--redis", default=None, help="Use this Redis instead of starting one.")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    user_ids, ad_ids = [f"u{i}" for i in range(USERS)], [f"a{i}" for i in range(ADS)]
    users, ads = rng.normal(size=(USERS, DIM)), rng.normal(size=(ADS, DIM))
    proc, redis_url = (None, args.redis) if args.redis else start_redis()
    tmp = tempfile.TemporaryDirectory(prefix="pmmlkit-bench-emb-")
    stores = {"file": f"file://{tmp.name}/emb", **({"redis": redis_url} if redis_url else {})}
    rows = []
    try:
        plain = Evaluator.from_bytes(ranker_pmml(), backend="native")
        spec = LookupSpec.from_dict(MANIFEST)
        for name, frame in cases(rng).items():
            u = users[[user_ids.index(x) for x in frame.user_id]].astype(np.float32)
            a = ads[[ad_ids.index(x) for x in frame.ad_id]].astype(np.float32)
            ready = frame.assign(**build_features(spec, {"user": u, "ad": a}))
            fn = partial(plain.predict, ready.iloc[0].to_dict()) if len(frame) == 1 else \
                partial(plain.predict_batch, ready)
            rows.append(("no lookups", "in process", name, *timed(fn, iterations=args.iterations,
                                                                    max_seconds=args.max_seconds)))
        for kind, url in stores.items():
            store = open_store(url, shared=False)
            store.publish("users", user_ids, users)
            store.publish("ads", ad_ids, ads)
            ev = with_lookups(Evaluator.from_bytes(ranker_pmml(), backend="native"), MANIFEST, store)
            repo = Repository(f"{tmp.name}/models-{kind}")
            repo.publish("ranker", ranker_pmml(), manifest={**MANIFEST, "store": url})
            app = create_app(repo, config=ServerConfig(backend="native", poll_seconds=0))
            app.state.models.poll()
            for name, frame in cases(rng).items():
                fn = partial(ev.predict, frame.iloc[0].to_dict()) if len(frame) == 1 else \
                    partial(ev.predict_batch, frame)
                rows.append((f"{kind} store", "in process", name,
                             *timed(fn, iterations=args.iterations, max_seconds=args.max_seconds)))
                rows.append((f"{kind} store", "asgi", name, *timed(asgi_caller(app, frame),
                             iterations=args.iterations, max_seconds=args.max_seconds)))
            app.state.models.close()
            store.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        tmp.cleanup()
    print(f"tables: {USERS} users, {ADS} ads, dim {DIM}; model: logistic regression on dot + products + "
          f"hour + device; {'redis: ' + redis_url if redis_url else 'redis: not available (skipped)'}\n")
    print("| lookups | path | case | p50 ms | p99 ms | runs |")
    print("|---|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3f} | {r[4]:.3f} | {r[5]} |")


if __name__ == "__main__":
    main(sys.argv[1:])
