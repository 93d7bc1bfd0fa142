"""The README's command reference, generated from `pmmlkit --help` so that it never drifts.

    python scripts/cli_reference.py           # rewrite the block between the README markers
    python scripts/cli_reference.py --check   # exit 1 when the README differs from --help

tests/test_cli.py runs the check.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator

import click

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
START, END = "<!-- cli:start -->", "<!-- cli:end -->"
WIDTH = 100  # fixed, so the text does not depend on the terminal that ran the script


def _contexts(command: click.Command, ctx: click.Context) -> Iterator[click.Context]:
    """The context of every command and group, depth first, in their listed order."""
    yield ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _contexts(sub, click.Context(sub, info_name=name, parent=ctx,
                                                        terminal_width=WIDTH, max_content_width=WIDTH))


def reference() -> str:
    """Markdown: one heading and one `--help` block per command."""
    from pmmlkit.cli import main

    root = click.Context(main, info_name="pmmlkit", terminal_width=WIDTH, max_content_width=WIDTH)
    parts = [START, "## Command reference", "",
             "Generated from `--help` by `scripts/cli_reference.py` (a test fails when it drifts).", ""]
    for ctx in _contexts(main, root):
        parts += [f"### `{ctx.command_path}`", "", "```text", ctx.get_help().rstrip(), "```", ""]
    parts.append(END)
    return "\n".join(parts)


def readme_block(text: str) -> str | None:
    """The block between the markers (markers included), or None when the README has none."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start:end + len(END)]


def update(path: str = README) -> bool:
    """Write the fresh reference into ``path`` (atomically); True when it changed."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    old, new = readme_block(text), reference()
    if old == new:
        return False
    updated = text.replace(old, new) if old is not None else text.rstrip("\n") + "\n\n" + new + "\n"
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(updated)
    os.replace(tmp, path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when the README is stale")
    args = parser.parse_args(argv)
    if args.check:
        with open(README, encoding="utf-8") as fh:
            stale = readme_block(fh.read()) != reference()
        if stale:
            print("README.md's command reference differs from --help: run python scripts/cli_reference.py",
                  file=sys.stderr)
        return int(stale)
    print("README.md updated" if update() else "README.md already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
