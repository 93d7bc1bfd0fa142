"""The allocator tuning (native/allocator.py): applied once on glibc, never against the process's own choice."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.docs import logistic_pmml

SCRIPT = """
import sys, pandas as pd
from pmmlkit import Evaluator
from pmmlkit.evaluator.native import allocator
ev = Evaluator.from_bytes(open(sys.argv[1], 'rb').read(), backend='native')
df = pd.DataFrame({'x1': [0.1 * i for i in range(5000)], 'x2': [i % 7 for i in range(5000)],
                   'device': ['ios', 'web'] * 2500})
out = ev.predict_batch(df)
print(allocator.tune(), repr(out['probability(yes)'].sum()))
"""


def _run(tmp_path, **env):
    doc = tmp_path / "m.pmml"
    doc.write_bytes(logistic_pmml())
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "PMMLKIT_MALLOC"))}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(doc)], capture_output=True, text=True, timeout=120,
                          env={**clean, **env})
    assert done.returncode == 0, done.stderr
    tuned, total = done.stdout.split()
    return tuned == "True", total


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tuned_on_glibc_unless_the_process_chose_and_answers_do_not_change(tmp_path):
    tuned, total = _run(tmp_path)
    assert tuned
    assert _run(tmp_path, PMMLKIT_MALLOC_TUNING="0") == (False, total)
    assert _run(tmp_path, MALLOC_MMAP_THRESHOLD_="1048576") == (False, total)
