"""``supersms worker [CELERY WORKER OPTIONS]``: a Celery worker for sends and reports, task events on.

Defaults (each can be overridden by passing the Celery option): queues ``sms.send,sms.reports``, the threads
pool with ``SUPERSMS_CONCURRENCY`` threads, log level INFO, task events on (``-E``) for Flower. The connection
pools to Redis and to the provider are sized for the tasks the worker really runs at once (``-c``, or the
``--autoscale`` maximum). ``--autoscale`` needs a pool that can grow and shrink (prefork, gevent, eventlet):
Celery's threads and solo pools cannot, and its autoscaler would stop the worker at the first scale-up, so
``--autoscale`` without such a pool is refused before the worker starts. A Celery option that Celery refuses
(unknown, or a bad value) is one line naming it, exit status 2, as for every other command.
"""

from __future__ import annotations

import re

import click

from supersms.errors import InvalidMessage, StoreUnavailable
from supersms.settings import masked_url
from supersms.workers.celery_config import REPORTS_QUEUE, SEND_QUEUE, WORKER_POOL
from supersms.workers.redis_io import connect, translate_errors

HELP_FLAGS = frozenset({"-h", "--help"})
POOL_OPTIONS = ("-P", "--pool")
AUTOSCALE_SIZES = re.compile(r"\s*(\d+)\s*(?:,\s*(\d+)\s*)?", re.ASCII)  # MAX[,MIN], as Celery reads it
GROWING_POOLS = frozenset({"prefork", "processes", "gevent", "eventlet", "custom"})
"""Pools whose size Celery's autoscaler can change (``custom`` is the user's own: given the benefit of doubt)."""


def worker_argv(argv: list[str]) -> list[str]:
    """The ``celery worker`` arguments: ours first where the caller did not give the same option."""
    defaults = {
        ("-Q", "--queues"): f"--queues={SEND_QUEUE},{REPORTS_QUEUE}",
        ("-l", "--loglevel"): "--loglevel=INFO",
    }
    given = {arg.split("=", 1)[0] for arg in argv}
    chosen = [value for names, value in defaults.items() if not given & set(names)]
    return ["worker", "--task-events", *chosen, *_prefork_by_its_other_name(argv)]


def _prefork_by_its_other_name(argv: list[str]) -> list[str]:
    """``argv`` with a pool named ``prefork`` named ``processes``: the same pool, under a name Celery does not
    take for its own default (``-P prefork`` given by hand would otherwise run the configured threads pool)."""
    renamed = []
    for at, arg in enumerate(argv):
        after_pool_option = at > 0 and argv[at - 1] in POOL_OPTIONS
        if arg == "prefork" and after_pool_option:
            arg = "processes"
        elif arg in (f"{option}{glue}prefork" for option in POOL_OPTIONS for glue in ("=", "")):
            arg = "--pool=processes"
        renamed.append(arg)
    return renamed


def check_autoscale(argv: list[str]) -> None:
    """Refuse ``--autoscale`` that is not ``MAX[,MIN]`` or goes with a pool that cannot grow
    (:class:`InvalidMessage` naming the option)."""
    autoscale = _option_value(argv, "--autoscale")
    if autoscale is None:
        return
    sizes = AUTOSCALE_SIZES.fullmatch(autoscale)
    if sizes is None or max(int(size or 0) for size in sizes.groups()) < 1:
        raise InvalidMessage(
            "--autoscale", f"must be MAX or MAX,MIN in whole numbers, MAX 1 or more, got {autoscale!r}"
        )
    pool = _option_value(argv, *POOL_OPTIONS) or WORKER_POOL
    if pool not in GROWING_POOLS:
        raise InvalidMessage(
            "--autoscale",
            f"the {pool} pool cannot grow or shrink; give its size with -c N, "
            "or choose -P prefork, gevent or eventlet",
        )


def _option_value(argv: list[str], *names: str) -> str | None:
    """The last value given to the option ``names`` (``--opt V``, ``--opt=V``, ``-oV``), or None."""
    found = None
    for at, arg in enumerate(argv):
        for name in names:
            if arg == name and at + 1 < len(argv):
                found = argv[at + 1]
            elif arg.startswith(f"{name}=") or (len(name) == 2 and arg.startswith(name) and arg != name):
                found = arg[len(name) :].removeprefix("=")
    return found


def main(argv: list[str]) -> int:
    """Check the options, the account and Redis, then run the Celery worker until it is stopped."""
    from supersms.tasks.app import app, settings

    current = settings()
    if HELP_FLAGS & set(argv):  # the help text needs neither the account nor Redis
        print(_help_header(current.worker_concurrency), flush=True)
    else:
        check_autoscale(argv)
        current.require_credentials()
        _require_redis(current.redis_url)
    try:
        app.worker_main(worker_argv(argv))
    except click.UsageError as error:  # Celery's own options, read by click: one line naming the option
        raise InvalidMessage(*_option_and_rule(error)) from None
    return 0


def _help_header(concurrency: int) -> str:
    """What ``supersms worker`` sets before Celery's own help text (which speaks of Celery's defaults)."""
    return (
        "supersms worker: a Celery worker for sends and reports. Celery's options follow; unless given, this\n"
        f"worker runs the threads pool (-P threads) with SUPERSMS_CONCURRENCY threads (-c {concurrency}),\n"
        f"consumes {SEND_QUEUE},{REPORTS_QUEUE} (-Q), logs at INFO (-l) and sends task events for Flower (-E).\n"
        "--autoscale needs -P prefork, gevent or eventlet.\n"
    )


def _option_and_rule(error: click.UsageError) -> tuple[str, str]:
    """The option a click usage error is about, and what is wrong with it."""
    if isinstance(error, click.BadParameter) and error.param is not None:
        return "/".join(error.param.opts), error.message
    if isinstance(error, click.NoSuchOption):
        close = f" (did you mean {', '.join(error.possibilities)}?)" if error.possibilities else ""
        return error.option_name, f"unrecognized option{close}"
    if isinstance(error, click.BadOptionUsage):
        return error.option_name, error.message.removeprefix(f"Option '{error.option_name}' ").rstrip(".")
    return "arguments", " ".join(error.format_message().split())


def _require_redis(url: str) -> None:
    try:
        with translate_errors("answer a PING"):
            connect(url).ping()
    except StoreUnavailable:
        raise StoreUnavailable(f"cannot reach Redis at SUPERSMS_REDIS_URL={masked_url(url)}") from None
