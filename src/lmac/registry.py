"""One small registry class; instances for models and feature extractors are filled by decorators."""
from __future__ import annotations

import difflib
import fnmatch
from typing import Any, Callable


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Callable[..., Any]] = {}
        self._info: dict[str, dict] = {}

    def register(self, name: str | None = None, **info) -> Callable:
        """Decorator: `@MODELS.register("lmac")`. Duplicate names raise (a silent override hides bugs)."""

        def deco(fn):
            key = name or fn.__name__
            if key in self._entries:
                raise ValueError(f"{self.kind} '{key}' is registered twice")
            self._entries[key] = fn
            self._info[key] = dict(info)
            return fn

        return deco

    def get(self, name: str) -> Callable[..., Any]:
        if name not in self._entries:
            close = difflib.get_close_matches(name, list(self._entries), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise KeyError(f"unknown {self.kind} '{name}'. Valid: {', '.join(sorted(self._entries))}.{hint}")
        return self._entries[name]

    def info(self, name: str) -> dict:
        self.get(name)
        return self._info[name]

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._entries if fnmatch.fnmatch(n, pattern))

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __repr__(self) -> str:
        return f"Registry({self.kind}: {', '.join(self.names())})"
