"""``supersms worker``: the options it adds, ``-P prefork`` kept as asked, ``--autoscale`` only where the pool
can grow (Celery's threads pool cannot: its autoscaler stops the worker at the first scale-up), and Celery's own
options refused in one line naming the option."""

from __future__ import annotations

import pytest

from supersms.cli.worker import check_autoscale, worker_argv
from supersms.errors import InvalidMessage
from tests.cli.helpers import ACCOUNT

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


@pytest.mark.parametrize("value", ["x,y", "0", "0,0", "8,2,1", "", "8;2", "-1,4", "٣"])
def test_autoscale_that_is_not_max_and_min_in_whole_numbers_is_refused(value) -> None:
    with pytest.raises(InvalidMessage) as refused:
        check_autoscale(["-P", "prefork", f"--autoscale={value}"])
    assert str(refused.value) == (
        f"--autoscale: must be MAX or MAX,MIN in whole numbers, MAX 1 or more, got {value!r}"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["-c", "16"],
        ["-P", "prefork", "--autoscale", "10"],
        ["-P", "prefork", "--autoscale", "2,10"],  # Celery takes the larger as MAX
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


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--concurency", "4"), "--concurency: unrecognized option (did you mean --concurrency?)"),
        (("-c", "abc"), "-c/--concurrency: must be a non-negative integer or 'auto', got 'abc'"),
        (
            ("--loglevel=LOUD",),
            "-l/--loglevel: 'LOUD' is not one of 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL', 'FATAL'.",
        ),
        (("-Q",), "-Q: requires an argument"),
        (
            ("-P", "prefork", "--autoscale", "x,y"),
            "--autoscale: must be MAX or MAX,MIN in whole numbers, MAX 1 or more, got 'x,y'",
        ),
    ],
)
def test_a_bad_celery_option_exits_2_with_one_line_naming_it(supersms, args, line) -> None:
    result = supersms("worker", *args, **ACCOUNT)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.only_error_line() == f"supersms worker: {line}"


def test_the_help_says_what_supersms_sets_before_celerys_own_text(supersms) -> None:
    result = supersms("worker", "--help", SUPERSMS_CONCURRENCY="12")
    assert result.returncode == 0
    header, celery_help = result.stdout.split("\n\n", 1)
    assert "-P threads" in header and "(-c 12)" in header and "sms.send,sms.reports" in header
    assert "--autoscale" in celery_help and "--concurrency" in celery_help
