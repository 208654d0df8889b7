"""A small name -> object registry whose errors list the valid names."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from tcc import errors


class Registry:
    """Maps names to classes or functions.

    Example:
      ALGORITHMS = Registry("training_algo")

      @ALGORITHMS.register("alignment")
      class Alignment(Algorithm): ...

      ALGORITHMS.get("alignment")
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, Any] = {}

    def register(self, name: str) -> Callable[[Any], Any]:
        """Decorator registering its target under `name`; a duplicate name is an error."""

        def decorator(obj: Any) -> Any:
            if name in self._items:
                raise KeyError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> Any:
        """Returns the object registered under `name`.

        Raises:
          KeyError: naming the valid choices (and the closest one) when `name` is unknown.
        """
        if name not in self._items:
            close = difflib.get_close_matches(name, list(self._items), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise errors.UnknownNameError(
                f"unknown {self.kind} {name!r}; valid: {', '.join(sorted(self._items))}.{hint}"
            )
        return self._items[name]

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items
