"""supersms-worker: send SMS through Infobank SuperSMS with Celery and Redis.

The package is assembled from the project's top-level folders:

- ``supersms.protocol``: the provider's protocol as pure functions (numbers, lengths, requests, replies, codes).
- ``supersms.workers``: worker-side machinery (provider client, rate limiter, message records).
- ``supersms.tasks``: the Celery tasks and the producer API.
- ``supersms.receiver``: the WSGI endpoint for the provider's delivery reports.
- ``supersms.sandbox``: a local stand-in for the provider, for development and tests.
"""

__version__ = "0.1.0"
