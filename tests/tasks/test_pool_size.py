"""A worker's connection pools follow the threads it runs (``-c``), not ``SUPERSMS_CONCURRENCY``."""

from __future__ import annotations

from supersms.tasks import send_many
from tests.tasks.test_sending import KOREAN, wait_for_status

THREADS = 40


def test_a_worker_run_with_more_threads_than_the_setting_keeps_a_connection_for_each(sandbox, start, store):
    sandbox.set_faults(latency_s=1.0)  # every thread holds its connection while the others start theirs
    start(concurrency=THREADS, SUPERSMS_CONCURRENCY="4")
    ids = send_many({"to": KOREAN, "message": f"pool {n}"} for n in range(2 * THREADS))
    wait_for_status(store, ids, ["submitted"], timeout_s=60)
    # A pool smaller than the threads closes each connection it cannot keep, and the provider sees it go.
    assert sandbox.open_connections >= THREADS


def test_a_prefork_worker_that_autoscales_sends_every_message_once(sandbox, start, store):
    sandbox.set_faults(latency_s=0.2)  # tasks wait in the worker long enough for it to scale up
    worker = start(concurrency=1, options=["-P", "prefork", "--autoscale", "4,1"])
    ids = send_many({"to": KOREAN, "message": f"autoscale {n}"} for n in range(12))
    wait_for_status(store, ids, ["submitted"], timeout_s=60)
    assert "(prefork)" in worker.output()  # the banner: the pool asked for, not the configured threads
    assert "Scaling up" in worker.output()
    assert len(sandbox.log.sends()) == len(ids)
