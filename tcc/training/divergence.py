"""The divergence guard: stop training when the loss or the gradient norm explodes.

NaN / Inf values are caught by the training loop itself. This guard catches the finite explosions
that precede them, or that never turn into NaN (a loss going from 1e4 to 1e10). The rule, per
watched value (`loss`, `grad_norm`), with `F = train.divergence_factor` and
`K = train.divergence_window`:

- history: the finite values of the previous (up to K) steps of this run (or of this resume);
  checking starts at the second step;
- a step diverges when its value is more than F times the median of that history (a jump) AND
  more than the largest value the run has had so far, so a loss or gradient norm that converged
  near 0 may jump back to any level it has been at without stopping the run (a supervised run
  that fits one labelled video drives its gradient norm to ~5e-4, and a later step at its
  ordinary level of ~3 is not an explosion);
- or when its value is more than F times the median of the run's first K values (a climb in
  smaller steps);
- a diverged step enters no history, and training stops before saving at that step, so the
  newest checkpoint is the last good one;
- the history (recent values, the first K, the largest) is saved with every checkpoint
  (`state()` / `load_state()`), so a resumed run judges its steps as the uninterrupted run would.

The default F = 1000 (three orders of magnitude) leaves a wide margin for the heavy-tailed noise
of gradient norms, while divergences are typically 1e4 - 1e10 times; `F = 0` turns the guard off.
"""

from __future__ import annotations

import collections
import dataclasses
import math

import numpy as np

WATCHED = ("loss", "grad_norm")


@dataclasses.dataclass(frozen=True)
class Divergence:
    """One exploded value: `key` at `value`, `value / median` times the median of `reference`."""

    key: str
    value: float
    median: float
    reference: str  # e.g. "the previous 20 step(s)"

    def describe(self) -> str:
        return (
            f"{self.key} exploded to {self.value:.4g}, {self.value / self.median:.3g} times the "
            f"median of {self.reference} ({self.median:.4g})"
        )


class DivergenceGuard:
    """Tracks recent losses / gradient norms and flags an explosion (module doc).

    Args:
      factor: F of the module doc; <= 0 disables the guard.
      window: K of the module doc, steps of history.
      keys: the values to watch.
    """

    def __init__(self, factor: float = 1000.0, window: int = 20, keys: tuple[str, ...] = WATCHED):
        self.factor = float(factor)
        self.window = max(1, int(window))
        self.keys = keys
        self._recent = {k: collections.deque(maxlen=self.window) for k in keys}
        self._first: dict[str, list[float]] = {k: [] for k in keys}  # the first `window` values
        self._peak = {k: -math.inf for k in keys}  # the largest value recorded

    def state(self) -> dict[str, dict[str, object]]:
        """The history, as plain JSON-able values: {key: {recent, first, peak}}."""
        return {
            k: {
                "recent": list(self._recent[k]),
                "first": list(self._first[k]),
                "peak": self._peak[k] if math.isfinite(self._peak[k]) else None,
            }
            for k in self.keys
        }

    def load_state(self, state: dict[str, dict[str, object]]) -> None:
        """Continues from a `state()` (a window changed since keeps the newest values)."""
        for k in self.keys:
            saved = state.get(k)
            if not saved:
                continue
            self._recent[k].clear()
            self._recent[k].extend(float(v) for v in saved["recent"])
            self._first[k] = [float(v) for v in saved["first"]][: self.window]
            peak = saved.get("peak")
            self._peak[k] = -math.inf if peak is None else float(peak)

    def check(self, values: dict[str, float]) -> Divergence | None:
        """Checks one step's values; returns the first divergence, else records them and None."""
        if self.factor <= 0:
            return None
        for key in self.keys:
            value = values.get(key)
            if value is None or not math.isfinite(value) or not self._recent[key]:
                continue
            value = float(value)
            recent, first = float(np.median(self._recent[key])), float(np.median(self._first[key]))
            if recent > 0 and value > self.factor * recent and value > self._peak[key]:
                steps = len(self._recent[key])
                return Divergence(key, value, recent, f"the previous {steps} step(s)")
            if first > 0 and value > self.factor * first:
                steps = len(self._first[key])
                return Divergence(key, value, first, f"the first {steps} step(s) of the run")
        for key in self.keys:
            value = values.get(key)
            if value is None or not math.isfinite(value):
                continue
            self._recent[key].append(float(value))
            self._peak[key] = max(self._peak[key], float(value))
            if len(self._first[key]) < self.window:
                self._first[key].append(float(value))
        return None
