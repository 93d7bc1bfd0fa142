"""Spark's stages and tasks as a one-line progress bar on a terminal; nothing when piped.

Spark's own console bar is off (spark.ui.showConsoleProgress=false): it writes to the
JVM's stderr whether or not that is a terminal, and into logs. This one polls the
status tracker from a daemon thread and draws on a TTY only.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

INTERVAL = 0.5  # seconds between redraws
_WIDTH = 24     # characters of the bar itself


@dataclass(frozen=True)
class StageProgress:
    stage: int
    tasks: int
    done: int
    running: int


def progress_line(what: str, stages: list[StageProgress]) -> str:
    """``training ctr: stage 4 [=====>      ] 3/8 tasks (2 running)``; all active stages summed."""
    tasks = sum(s.tasks for s in stages)
    done = sum(s.done for s in stages)
    running = sum(s.running for s in stages)
    filled = _WIDTH * done // tasks if tasks else 0
    bar = ("=" * filled + (">" if filled < _WIDTH else "")).ljust(_WIDTH)
    ids = ",".join(str(s.stage) for s in stages)
    return f"{what}: stage {ids} [{bar}] {done}/{tasks} tasks ({running} running)"


def active_stages(spark: SparkSession) -> list[StageProgress]:
    tracker = spark.sparkContext.statusTracker()
    stages = []
    for stage_id in tracker.getActiveStageIds():
        info = tracker.getStageInfo(stage_id)
        if info is not None:
            stages.append(StageProgress(stage_id, info.numTasks, info.numCompletedTasks, info.numActiveTasks))
    return stages


@contextmanager
def spark_progress(spark: SparkSession, what: str, *, stream: TextIO | None = None,
                   interval: float = INTERVAL) -> Iterator[None]:
    """Draw the progress of ``spark``'s jobs on ``stream`` (stderr) while the block runs, if a TTY."""
    out = stream if stream is not None else sys.stderr
    if not _is_tty(out):
        yield
        return
    stop = threading.Event()
    drawn = [0]  # length of the last line, to blank it at the end

    def draw() -> None:
        while not stop.wait(interval):
            try:
                stages = active_stages(spark)
            except Exception:  # noqa: BLE001 - the session may be stopping; the bar is only a bar
                return
            if stages:
                line = progress_line(what, stages)
                out.write("\r" + line.ljust(drawn[0]))
                out.flush()
                drawn[0] = len(line)

    thread = threading.Thread(target=draw, name="pmmlkit-spark-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if drawn[0]:
            out.write("\r" + " " * drawn[0] + "\r")
            out.flush()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False
