"""Two towers end to end: interactions -> ALS embeddings -> store -> last layer -> server -> top-k ads.

    python examples/recommend.py --workdir /tmp/recommend [--store redis://127.0.0.1:6379/0] [--k 5]

1) generate impressions (users x ads, clicks drawn from hidden user/ad factors),
2) fit user and ad embeddings with Spark ALS on the clicks,
3) publish them to the store (a file store under WORKDIR by default),
4) train the last layer (logistic regression on dot + element-wise products + hour, device),
5) serve the repository with the ASGI app on 127.0.0.1 (uvicorn, in this process),
6) ask it to rank 100 ads for one user and print the top k.
"""
from __future__ import annotations

import argparse
import os
import socket
import threading
import time

import numpy as np
import pandas as pd

DEVICES = ("android", "ios", "web")


def generate(*, users: int = 200, ads: int = 100, rows: int = 20000, seed: int = 7) -> pd.DataFrame:
    """Impressions with a click label; the click odds come from hidden 4-d user/ad factors."""
    rng = np.random.default_rng(seed)
    uf, af = rng.normal(size=(users, 4)), rng.normal(size=(ads, 4))
    u, a = rng.integers(0, users, rows), rng.integers(0, ads, rows)
    hour, device = rng.integers(0, 24, rows), rng.choice(DEVICES, rows)
    logit = -1.5 + 1.2 * (uf[u] * af[a]).sum(axis=1) + 0.4 * np.sin(hour / 24 * 2 * np.pi) \
        + np.where(device == "ios", 0.3, 0.0)
    clicked = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"user_id": [f"u{i}" for i in u], "ad_id": [f"ad{i}" for i in a],
                         "hour": hour, "device": device, "clicked": clicked})


def run(workdir: str, *, store_url: str | None = None, k: int = 5, user: str = "u3") -> pd.DataFrame:
    from pmmlkit.spark.embeddings.als import AlsSpec
    from pmmlkit.spark.embeddings.als import train as train_als
    from pmmlkit.spark.embeddings.ranker import train_ranker
    from pmmlkit.spark.session import spark_session

    os.makedirs(workdir, exist_ok=True)
    store_url = store_url or f"file://{os.path.join(os.path.abspath(workdir), 'embeddings')}"
    repo = os.path.join(workdir, "models")
    impressions = generate()
    data = os.path.join(workdir, "impressions.csv")
    impressions.to_csv(data, index=False)
    print(f"1) {len(impressions)} impressions, {impressions.clicked.mean():.1%} clicked -> {data}")

    with spark_session(master="local[2]", app_name="pmmlkit-recommend") as spark:
        clicks = os.path.join(workdir, "clicks.csv")
        impressions[impressions.clicked == 1].to_csv(clicks, index=False)
        als = AlsSpec(data=clicks, user="user_id", item="ad_id", output=os.path.join(workdir, "tables"),
                      rank=8, max_iter=10, reg_param=0.05, alpha=5.0, tables={"user": "users", "item": "ads"},
                      store=store_url)
        summary = train_als(als, spark=spark)
        print(f"2+3) ALS embeddings published to {store_url}: "
              + ", ".join(f"{t} v{s['version']} ({s['count']} x {s['dim']})" for t, s in summary.items()))

        spec = {"name": "recommend", "data": data, "label": "clicked", "numeric": ["hour"], "categorical": ["device"],
                "estimator": {"type": "logistic_regression", "params": {"maxIter": 50}},
                "lookups": [{"key": "user_id", "table": "users", "as": "user"},
                            {"key": "ad_id", "table": "ads", "as": "ad"}],
                "features": {"dot": True, "products": True},
                "fallback": {"user": {"default": "mean"}, "ad": {"default": "zeros"}}, "store": store_url}
        version = train_ranker(spec, repo=repo, spark=spark)
        print(f"4) last layer published as {version.ref}: "
              + ", ".join(f"{m}={v:.3f}" for m, v in version.manifest.metrics.items()))
    return serve_and_rank(repo, user=user, k=k)


def serve_and_rank(repo: str, *, user: str, k: int) -> pd.DataFrame:
    import httpx
    import uvicorn

    from pmmlkit.repository.store import Repository
    from pmmlkit.serving import ServerConfig, create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Repository(repo), config=ServerConfig(backend="auto", poll_seconds=0))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        candidates = [f"ad{i}" for i in range(100)]
        body = {"inputs": {"user_id": [user] * len(candidates), "ad_id": candidates,
                           "hour": [20] * len(candidates), "device": ["ios"] * len(candidates)}}
        resp = httpx.post(f"http://127.0.0.1:{port}/v1/models/recommend:predict", json=body, timeout=30)
        resp.raise_for_status()
        out = resp.json()["outputs"]
        ranked = pd.DataFrame({"ad_id": candidates, "p_click": out["probability(1)"],
                               "fallback": out["fallback"]}).sort_values("p_click", ascending=False)
        print(f"5+6) served on 127.0.0.1:{port}; top {k} ads for {user}:")
        print(ranked.head(k).to_string(index=False))
        return ranked.head(k)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="recommend-demo")
    parser.add_argument("--store", default=None, help="Store URL [default: file store under WORKDIR].")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--user", default="u3")
    args = parser.parse_args(argv)
    started = time.monotonic()
    run(args.workdir, store_url=args.store, k=args.k, user=args.user)
    print(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
