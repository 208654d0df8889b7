"""Tests for the step timer: rate and ETA from training steps only."""

from tcc.training.progress import StepTimer, format_seconds


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_first_step_and_paused_time_are_not_counted():
    clock = _Clock()
    timer = StepTimer(clock)
    clock.now = 40.0  # start-up and tracing of the first step
    timer.step_done()
    assert timer.first_step_seconds == 40.0
    assert timer.window_rate() is None and timer.eta_seconds(10) is None
    for _ in range(4):  # four steps of 0.5 s
        clock.now += 0.5
        timer.step_done()
    with timer.paused():  # a validation of 30 s
        clock.now += 30.0
    clock.now += 0.5
    timer.step_done()
    assert timer.window_rate() == 2.0
    assert timer.eta_seconds(100) == 50.0
    assert timer.window_rate() is None  # a new window


def test_a_resumed_run_gets_the_same_eta():
    clock = _Clock()
    timer = StepTimer(clock)
    clock.now = 600.0  # a slow restore after a resume
    timer.step_done()
    for _ in range(10):
        clock.now += 1.0
        timer.step_done()
    assert timer.eta_seconds(60) == 60.0


def test_format_seconds():
    assert format_seconds(3725.4) == "1:02:05"
    assert format_seconds(None) == "?"
