"""Run pmmlkit as if some extras were not installed: ``python without_extras.py spark,jvm -- ARGS``.

Their modules become unimportable through the real import system (every finder answers
"not found"), which is what a core-only install looks like to pmmlkit. ARGS are the
`pmmlkit` command line, or ``-c CODE`` to run Python.
"""
from __future__ import annotations

import sys
from typing import Any


class _Hidden:
    """A meta-path finder that finds nothing of the hidden top-level modules."""

    def __init__(self, inner: Any, hidden: set[str]):
        self.inner, self.hidden = inner, hidden

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name.split(".")[0] in self.hidden:
            return None
        find = getattr(self.inner, "find_spec", None)
        return find(name, path, target) if find else None

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.inner, attr)


def main() -> None:
    from pmmlkit.extras import EXTRAS

    extras, _, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    hidden = {m for extra in extras.split(",") for m in EXTRAS[extra][1]}
    sys.meta_path[:] = [_Hidden(finder, hidden) for finder in sys.meta_path]
    if args[:1] == ["-c"]:
        exec(compile(args[1], "<code>", "exec"), {"__name__": "__main__"})
        return
    from pmmlkit.cli import main as cli

    cli(args, prog_name="pmmlkit")


if __name__ == "__main__":
    main()
