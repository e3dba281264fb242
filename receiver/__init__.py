"""The delivery-report receiver: a bare WSGI app (PEP 3333) that makes each report durable before it answers.

Build it with :func:`create_app`; serve it with ``supersms receiver`` (gunicorn) or any WSGI server through
``supersms.receiver.wsgi:application``. :func:`replay_spool` moves reports spooled while Redis was away.
"""

from supersms.receiver.app import ReceiverApp, create_app
from supersms.receiver.replay import replay_spool

__all__ = ["ReceiverApp", "create_app", "replay_spool"]
