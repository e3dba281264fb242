"""What producers enqueue and workers run.

Python producers call :func:`send_message` or :func:`send_many`. Producers in any language publish the Celery
task ``supersms.send`` on queue ``sms.send`` with JSON keyword arguments named as the provider's parameters.
"""

from supersms.tasks.app import app
from supersms.tasks.producer import send_many, send_message

__all__ = ["app", "send_many", "send_message"]
