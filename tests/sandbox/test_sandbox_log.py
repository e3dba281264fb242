"""The sandbox's log: masked, paged by index, bounded, and waitable."""

from __future__ import annotations

from supersms.sandbox.log import SandboxLog, SendEntry


def add(log: SandboxLog, n: int) -> SendEntry:
    return log.add_send(method="POST", fields={"id": "me", "pwd": "secret", "to": str(n)}, err_code="R000")


def test_the_password_is_masked() -> None:
    log = SandboxLog()
    assert add(log, 1).fields == {"id": "me", "pwd": "***", "to": "1"}


def test_pages_follow_on_from_next() -> None:
    log = SandboxLog()
    for n in range(5):
        add(log, n)
    first, following = log.page(since=0, limit=2)
    second, last = log.page(since=following, limit=10)
    assert [e.index for e in first] == [0, 1] and [e.index for e in second] == [2, 3, 4]
    assert log.page(since=last, limit=10) == ([], 5)


def test_a_bounded_log_keeps_the_newest_entries_and_their_indexes() -> None:
    log = SandboxLog(max_entries=3)
    for n in range(5):
        add(log, n)
    assert [entry.index for entry in log.entries()] == [2, 3, 4]
    assert [entry.index for entry in log.entries(since=3)] == [3, 4]


def test_clearing_keeps_counting_indexes() -> None:
    log = SandboxLog()
    add(log, 1)
    log.clear()
    assert log.entries() == [] and add(log, 2).index == 1


def test_waiting_for_an_entry_that_never_comes_times_out() -> None:
    assert not SandboxLog().wait_for(lambda log: bool(log.sends()), timeout_s=0.05)
