"""Benchmarks of supersms on this machine, each side by side with the bare minimum, run by ``python -m bench``.

Not part of the installed package: these are scripts that start a private Redis, the sandbox provider,
workers and receivers as subprocesses (stopped by their pid), measure, and print one table per benchmark and
a summary. Every figure is a ratio of two numbers measured in the same run, shown with both numbers.

- :mod:`bench.send`: messages per second from queued to submitted, against a bare Celery task.
- :mod:`bench.campaign`: the enqueue rate of ``send_many`` against a plain ``apply_async`` loop.
- :mod:`bench.receiver`: report GETs per second on gunicorn against a bare WSGI app.
- :mod:`bench.correlation`: reports applied per second, and the report lag at a steady rate.
- :mod:`bench.ratelimit`: the global rate limit as the provider sees it.
- :mod:`bench.memory`: worker memory, and how the figures move from 1k to 100k messages in the store.
"""
