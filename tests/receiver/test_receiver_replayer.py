"""The receiver's spool replay thread: a round at start, one whenever nudged, and it outlives any failure."""

from __future__ import annotations

import time

from supersms.receiver.replay import Replayer
from tests.support.calls import WAIT_S, CountedCalls

LONG_INTERVAL_S = 60.0  # no round comes from the timer during a test


class Rounds(CountedCalls):
    """A replay function that counts its calls; the calls listed in ``failing`` raise."""

    def __init__(self, *, failing: tuple[int, ...] = ()) -> None:
        super().__init__()
        self._failing = failing

    def __call__(self) -> int:
        if self.record() in self._failing:
            raise RuntimeError("disk on fire")
        return 0


def test_a_nudge_replays_at_once_and_only_once() -> None:
    rounds = Rounds()
    replayer = Replayer(replay=rounds, interval_s=LONG_INTERVAL_S).start()
    assert rounds.wait_for(1), "a round at start, for a spool left behind"

    replayer.nudge()
    assert rounds.wait_for(2), "Redis answering again replays without waiting for the timer"
    time.sleep(0.3)
    assert rounds.count == 2, "one nudge, one round"
    replayer.stop()


def test_an_unexpected_error_in_a_round_does_not_end_the_thread() -> None:
    rounds = Rounds(failing=(1,))
    replayer = Replayer(replay=rounds, interval_s=LONG_INTERVAL_S).start()
    assert rounds.wait_for(1)

    replayer.nudge()
    assert rounds.wait_for(2) and replayer.is_alive()
    replayer.stop()


def test_stop_ends_the_thread_without_waiting_for_the_timer() -> None:
    rounds = Rounds()
    replayer = Replayer(replay=rounds, interval_s=LONG_INTERVAL_S).start()
    assert rounds.wait_for(1)

    replayer.stop(timeout_s=WAIT_S)

    assert not replayer.is_alive()
