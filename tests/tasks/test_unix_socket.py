"""A Redis reached over a Unix socket (``SUPERSMS_REDIS_URL=unix://…``) serves as the store and the broker: kombu
knows no ``unix`` transport, so the broker URL becomes ``redis+socket://`` with the same database."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from supersms.embedded import EmbeddedRedis
from supersms.workers.records import MessageStore
from supersms.workers.redis_io import connect
from tests.support.processes import start_worker
from tests.tasks.conftest import redis_broker_only
from tests.tasks.test_sending import KOREAN, wait_for_status


@redis_broker_only
def test_a_producer_and_a_worker_send_through_redis_on_a_unix_socket(worker_env, tmp_path: Path):
    with tempfile.TemporaryDirectory(
        prefix="supersms-sock-"
    ) as folder:  # short: a socket path has ≤ 107 bytes
        socket_path = f"{folder}/redis.sock"
        with EmbeddedRedis(directory=folder, unix_socket=socket_path):
            url = f"unix://{socket_path}?db=2"
            env = {**worker_env, "SUPERSMS_REDIS_URL": url}
            worker = start_worker("unix", env=env, tmp_path=tmp_path)
            client = connect(url)
            try:
                sent = subprocess.run(
                    [sys.executable, "-m", "supersms", "send", "--to", KOREAN, "--message", "over a socket"],
                    env={**os.environ, **env},
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=True,
                )
                message_id = sent.stdout.strip()
                store = MessageStore(redis_client=client, record_ttl_s=3600)
                wait_for_status(store, [message_id], ["submitted"], timeout_s=30)
                assert connect(f"unix://{socket_path}?db=0").dbsize() == 0  # all of it in database 2
            finally:
                worker.request_stop()
                worker.stop()
                client.close()
