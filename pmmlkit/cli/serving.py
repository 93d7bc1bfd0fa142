"""`pmmlkit serve`: the model server."""
from __future__ import annotations

import click

from ..serving.config import DEFAULT_BATCH_TIMEOUT_MICROS, DEFAULT_MAX_BATCH_SIZE, MAX_BATCH_TIMEOUT_MICROS
from .options import backend_option, repo_option


@click.command("serve")
@repo_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Worker processes; each polls, loads and scores on its own.")
@click.option("--reuse-port", is_flag=True,
              help="With --workers: each worker listens on a socket of its own (SO_REUSEPORT), so the kernel "
                   "spreads connections evenly; connections queued on a worker that dies are then reset.")
@click.option("--model", "model_names", multiple=True,
              help="Serve only this model (repeatable) [default: every model in the repository].")
@click.option("--require", "required", multiple=True,
              help="A model that must be AVAILABLE before /readyz answers 200 (repeatable). "
                   "Without it, ready = at least one model AVAILABLE.")
@click.option("--poll-seconds", default=2.0, show_default=True, type=click.FloatRange(min=0),
              help="How often to look for new, removed and relabelled versions; 0 = load once.")
@click.option("--policy", default="latest", show_default=True,
              help="Versions kept loaded: latest, latest:N, all or specific (with --versions).")
@click.option("--versions", default=None, help="For --policy specific: version numbers, e.g. 1,3.")
@backend_option
@click.option("--admin-token", envvar="PMMLKIT_ADMIN_TOKEN", default=None,
              help="Bearer token for the admin endpoints (env PMMLKIT_ADMIN_TOKEN); unset = disabled.")
@click.option("--max-body-bytes", default=16 * 1024 * 1024, show_default=True, type=click.IntRange(min=1),
              help="Larger request bodies are refused with 413.")
@click.option("--timeout", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Seconds one scoring call may take before the request fails with 504.")
@click.option("--mlflow-model", default=None, metavar="NAME[:VERSION|@LABEL]",
              help="The model MLflow's POST /invocations scores [default: the only model served].")
@click.option("--max-batch-size", default=DEFAULT_MAX_BATCH_SIZE, show_default=True, type=click.IntRange(min=0),
              help="Concurrent requests for one model version are scored as one batch of up to this many "
                   "records, each answered as if alone; 0 or 1 = no batching.")
@click.option("--batch-timeout-micros", default=DEFAULT_BATCH_TIMEOUT_MICROS, show_default=True,
              type=click.IntRange(0, MAX_BATCH_TIMEOUT_MICROS),
              help="How long a request may wait for others to join its batch; 0 = only those already "
                   "waiting (no added latency).")
@click.option("--canary", multiple=True, metavar="MODEL@LABEL=P%",
              help="Send P% of MODEL's unpinned requests to the version LABEL points at (repeatable, one "
                   "per model); follows label changes.")
@click.option("--shadow", multiple=True, metavar="MODEL@LABEL",
              help="Also score every MODEL request on the version LABEL points at, answer with the primary's "
                   "results only, and export their divergence per output in /metrics (repeatable).")
@click.option("--log-requests", "log_requests", default=None, metavar="DIR",
              help="Write a sample of the scored records (inputs, results, version, latency) to rotating "
                   "JSONL files in DIR, off the request path; `pmmlkit drift` reads DIR.")
@click.option("--log-sample", default=0.1, show_default=True, type=click.FloatRange(0, 1, min_open=True),
              help="Share of the records --log-requests writes.")
@click.option("--no-drift", is_flag=True,
              help="Do not export the live PSI per input field (pmmlkit_serving_input_psi) of versions "
                   "published with a training profile.")
@click.option("--create", is_flag=True, help="Create the repository root if it does not exist (else that is an "
              "error: a typo in --repo would serve nothing).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]), help="Server log level.")
@click.option("--access-log", is_flag=True, help="Log every request (costs throughput).")
def serve_cmd(repo: str, host: str, port: int, workers: int, reuse_port: bool, model_names: tuple[str, ...],
              required: tuple[str, ...], poll_seconds: float, policy: str, versions: str | None, backend: str,
              admin_token: str | None, max_body_bytes: int, timeout: float | None, mlflow_model: str | None,
              max_batch_size: int, batch_timeout_micros: int, canary: tuple[str, ...], shadow: tuple[str, ...],
              log_requests: str | None, log_sample: float, no_drift: bool, create: bool, log_level: str,
              access_log: bool) -> None:
    """Serve models over a TF-Serving-compatible REST API; new versions load without restart."""
    from ..repository.store import check_name
    from ..serving.config import Policy, ServerConfig
    from ..serving.run import serve

    config = ServerConfig(models=tuple(check_name(n) for n in model_names),
                          required=tuple(check_name(n) for n in required),
                          policy=Policy.parse(policy, versions=versions), backend=backend,
                          poll_seconds=poll_seconds, admin_token=admin_token or None,
                          max_body_bytes=max_body_bytes, timeout=timeout, mlflow_model=mlflow_model,
                          max_batch_size=max_batch_size, batch_timeout_micros=batch_timeout_micros,
                          canary=canary, shadow=shadow, log_requests=log_requests, log_sample=log_sample,
                          drift=not no_drift)
    serve(repo=repo, config=config, host=host, port=port, workers=workers, log_level=log_level,
          access_log=access_log, create=create, reuse_port=reuse_port)
