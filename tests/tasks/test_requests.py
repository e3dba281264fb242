"""What a worker shows of a ``supersms.send`` task (events, ``celery inspect``) is masked, however it was published."""

from __future__ import annotations

from kombu.message import Message
from kombu.serialization import dumps
from kombu.utils.imports import symbol_by_name

from supersms.tasks.app import app

NUMBER = "01093446280"
TEXT = "비밀번호는 4321입니다"


def foreign_message(kwargs: dict[str, str]) -> Message:
    """A protocol-2 task message as a producer in another language publishes it: its reprs unmasked."""
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    content_type, encoding, body = dumps(((), kwargs, embed), serializer="json")
    headers = {"id": "c0ffee", "task": "supersms.send", "argsrepr": "()", "kwargsrepr": repr(kwargs)}
    return Message(
        body=body,
        content_type=content_type,
        content_encoding=encoding,
        headers=headers,
        delivery_info={"exchange": "sms.send", "routing_key": "sms.send"},
        properties={},
    )


def test_the_send_tasks_request_masks_arguments_published_unmasked():
    task = app.tasks["supersms.send"]
    request_class = symbol_by_name(task.Request)
    request = request_class(foreign_message({"to": NUMBER, "message": TEXT}), app=app, task=task)

    shown = " ".join(
        [request.argsrepr, request.kwargsrepr, repr(request.info()), repr(request.info(safe=False))]
    )

    assert NUMBER not in shown and "1093446280" not in shown and "4321" not in shown
    assert "0109*****80" in request.kwargsrepr, "the masked number is still there to recognise"
