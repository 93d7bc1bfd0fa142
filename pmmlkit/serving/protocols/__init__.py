"""One module per protocol, each a small list of routes over the one scoring core (core.py).

A protocol module exposes ``routes(core) -> list[Route]``; app.py concatenates them
(``PROTOCOLS``). Adding a protocol is one new module here plus its name in that tuple.
Shared here: the path parameter for model names and the three ways a TF-Serving-style
path names a model (latest, ``/versions/{version}``, ``/labels/{label}``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.routing import Route

from ..http import tag


class NameConvertor(Convertor):
    """Model names and labels in paths: never ':' (so ``{name}:predict`` parses), '/' or '%'."""

    regex = "[A-Za-z0-9._-]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("pmmlkit_name", NameConvertor())
NAME = "{name:pmmlkit_name}"


@dataclass(frozen=True)
class Target:
    """What a request path names: a model, and optionally a version or a label."""

    name: str
    version: int | None = None
    label: str | None = None

    @property
    def where(self) -> dict[str, Any]:
        return {"version": self.version, "label": self.label}


def target(request: Request, endpoint: str) -> Target:
    """The model the path names; tags the request's metrics with ``endpoint``."""
    tag(endpoint=endpoint)
    params = request.path_params
    return Target(params["name"], params.get("version"), params.get("label"))


def model_routes(base: str, suffix: str, endpoint: Callable[..., Any], methods: list[str]) -> list[Route]:
    """``endpoint`` at ``base``, ``base/versions/{version}`` and ``base/labels/{label}``, + ``suffix``."""
    return [Route(base + at + suffix, endpoint, methods=methods)
            for at in ("", "/versions/{version:int}", "/labels/{label:pmmlkit_name}")]
