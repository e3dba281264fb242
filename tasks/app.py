"""The Celery app of supersms. Configured lazily from the environment on first use; nothing connects at import."""

from __future__ import annotations

from functools import cache
from typing import Any

from celery import Celery

from supersms.settings import Settings
from supersms.workers.celery_config import celery_config

app = Celery("supersms", include=["supersms.tasks.send", "supersms.tasks.lifecycle"])


@cache
def settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings.from_env()


@app.on_configure.connect
def _configure(sender: Celery, **_: Any) -> None:
    sender.conf.update(celery_config(settings()))
