"""The Celery app of supersms. Configured lazily from the environment on first use; nothing connects at import."""

from __future__ import annotations

from functools import cache
from typing import Any

from celery import Celery, signature

from supersms.settings import Settings
from supersms.workers.celery_config import celery_config
from supersms.workers.runtime import Runtime, runtime

app = Celery(
    "supersms",
    include=[
        "supersms.tasks.send",
        "supersms.tasks.correlate",
        "supersms.tasks.lifecycle",
        "supersms.tasks.pause_gate",
    ],
)


@cache
def settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings.from_env()


@app.on_configure.connect
def _configure(sender: Celery, **_: Any) -> None:
    sender.conf.update(celery_config(settings()))


def current_runtime() -> Runtime:
    """This worker process's clients, built on first use."""
    return runtime(settings(), run_callback=run_signature)


def run_signature(task_signature: dict[str, Any], record: dict[str, Any]) -> None:
    """Call a producer's ``on_final`` signature with the final record as its first argument."""
    signature(task_signature, app=app).apply_async(args=(record,))
