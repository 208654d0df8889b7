"""Training speed and ETA from the time spent in training steps only.

The first step a process runs traces the step function and fills the input pipeline (tens of
seconds, also after a resume); it is not counted. Time spent in `paused()` blocks (in-training
validation) is not counted either; the training loop adds the validations still to come to the ETA
(`tcc.training.validation.Validator.remaining_seconds`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator


class StepTimer:
    """Measures steps/s over report windows and since the first step, excluding start-up.

    Call `step_done()` after every step, `window_rate()` at every report; wrap work between steps
    that is not training in `paused()`.
    """

    def __init__(self, clock=time.perf_counter):
        self._clock = clock
        self._last: float | None = None  # end of the previous counted step
        self._window_steps = 0
        self._window_seconds = 0.0
        self._total_steps = 0
        self._total_seconds = 0.0
        self.first_step_seconds: float | None = None
        self._created = clock()

    def step_done(self) -> None:
        """Records the end of a step; the first one only starts the clock."""
        now = self._clock()
        if self._last is None:
            self.first_step_seconds = now - self._created
        else:
            elapsed = now - self._last
            self._window_steps += 1
            self._window_seconds += elapsed
            self._total_steps += 1
            self._total_seconds += elapsed
        self._last = now

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Time inside the block is left out of the step rate and the ETA."""
        start = self._clock()
        try:
            yield
        finally:
            spent = self._clock() - start
            if self._last is not None:
                self._last += spent

    def window_rate(self) -> float | None:
        """Steps/s since the previous call (None when no step was counted); starts a new window."""
        steps, seconds = self._window_steps, self._window_seconds
        self._window_steps, self._window_seconds = 0, 0.0
        return steps / seconds if steps and seconds > 0 else None

    def eta_seconds(self, remaining_steps: int) -> float | None:
        """Seconds the next `remaining_steps` steps take at the rate since the first counted step.

        None before a step was counted.
        """
        if not self._total_steps or self._total_seconds <= 0:
            return None
        return max(remaining_steps, 0) * self._total_seconds / self._total_steps


def format_seconds(seconds: float | None) -> str:
    """`H:MM:SS`, or `?` for None."""
    if seconds is None:
        return "?"
    seconds = int(max(seconds, 0))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}"
