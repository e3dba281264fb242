"""``supersms worker``: the options it adds, ``-P prefork`` kept as asked, and ``--autoscale`` only where the pool
can grow (Celery's threads pool cannot: its autoscaler stops the worker at the first scale-up)."""

from __future__ import annotations

import pytest

from supersms.cli.worker import check_autoscale, worker_argv
from supersms.errors import InvalidMessage

OURS = ["worker", "--task-events", "--queues=sms.send,sms.reports", "--loglevel=INFO"]


def test_the_worker_gets_task_events_both_queues_and_info_logging_unless_told_otherwise() -> None:
    assert worker_argv(["-c", "4"]) == [*OURS, "-c", "4"]
    assert worker_argv(["-Q", "sms.send", "--loglevel=DEBUG"]) == [
        "worker", "--task-events", "-Q", "sms.send", "--loglevel=DEBUG",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("given", "passed"),
    [
        (["-P", "prefork"], ["-P", "processes"]),
        (["--pool", "prefork", "-c", "2"], ["--pool", "processes", "-c", "2"]),
        (["--pool=prefork"], ["--pool=processes"]),
        (["-Pprefork"], ["--pool=processes"]),
        (["-P", "threads"], ["-P", "threads"]),
        (["-n", "prefork@%h"], ["-n", "prefork@%h"]),
    ],
)
def test_prefork_asked_for_by_name_reaches_celery_under_its_other_name(given, passed) -> None:
    assert worker_argv(given) == [*OURS, *passed]


@pytest.mark.parametrize(
    ("argv", "pool"),
    [
        (["--autoscale", "8,2"], "threads"),
        (["--autoscale=8,2", "-P", "threads"], "threads"),
        (["-Psolo", "--autoscale", "8"], "solo"),
        (["--pool=prefork", "--pool=threads", "--autoscale=8,2"], "threads"),
    ],
)
def test_autoscale_with_a_pool_that_cannot_grow_is_refused_naming_the_pool(argv, pool) -> None:
    with pytest.raises(InvalidMessage) as refused:
        check_autoscale(argv)
    assert str(refused.value) == (
        f"--autoscale: the {pool} pool cannot grow or shrink; give its size with -c N, "
        "or choose -P prefork, gevent or eventlet"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["-c", "16"],
        ["-P", "prefork", "--autoscale", "8,2"],
        ["--autoscale=8,2", "--pool=processes"],
        ["-Pgevent", "--autoscale", "100,10"],
        ["--pool", "eventlet", "--autoscale", "100,10"],
    ],
)
def test_autoscale_with_a_pool_that_grows_or_no_autoscale_at_all_passes(argv) -> None:
    check_autoscale(argv)


def test_supersms_worker_with_autoscale_on_the_threads_pool_exits_2_before_starting(supersms) -> None:
    result = supersms("worker", "--autoscale", "8,2")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.only_error_line() == (
        "supersms worker: --autoscale: the threads pool cannot grow or shrink; give its size with -c N, "
        "or choose -P prefork, gevent or eventlet"
    )
