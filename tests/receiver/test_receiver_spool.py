"""The local spool: durable lines, one locked file per writer, and a replay that loses and repeats nothing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from supersms.embedded import EmbeddedRedis
from supersms.errors import StoreUnavailable
from supersms.receiver.delivery import Delivery
from supersms.receiver.replay import replay_directory, replay_spool
from supersms.receiver.spool import SpoolWriter, spool_files
from supersms.receiver.store import ReportStore
from supersms.workers import keys
from tests.receiver.conftest import receiver_settings
from tests.receiver.wsgi_client import GOOD_QUERY


def report(n: int) -> Delivery:
    """A distinct valid report (its own msgid)."""
    return Delivery(
        query=GOOD_QUERY.replace("00000123", f"{n:08d}"), received_ms=1_700_000_000_000 + n, source="::1"
    )


def stream_queries(client: redis.Redis) -> list[str]:
    return [fields["query"] for _, fields in client.xrange(keys.REPORTS)]


def test_an_appended_report_is_in_the_file_when_append_returns(spool_dir: Path) -> None:
    writer = SpoolWriter(directory=spool_dir)

    writer.append(report(1))

    [path] = spool_files(spool_dir)
    assert path.read_bytes() == report(1).to_line()
    assert Delivery.from_line(path.read_bytes()) == report(1)
    writer.rotate()


def test_a_report_whose_fsync_fails_is_not_taken_and_the_next_starts_a_new_file(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written is not durable: only a completed fsync lets append return (and the receiver answer 200)."""
    writer = SpoolWriter(directory=spool_dir)
    synced: list[int] = []  # the spool files' fsyncs (the directory's are let through)
    real_fsync = os.fsync

    def fsync_failing_once(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            synced.append(fd)
            if len(synced) == 1:
                raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_failing_once)
    with pytest.raises(OSError, match="Input/output error"):
        writer.append(report(1))
    writer.append(report(2))
    writer.rotate()

    assert len(synced) == 2
    assert [path.read_bytes() for path in spool_files(spool_dir)] == [
        report(1).to_line(),
        report(2).to_line(),
    ]


def test_a_spool_file_whose_name_cannot_be_made_durable_is_not_left_behind(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SpoolWriter(directory=spool_dir)
    real_fsync = os.fsync

    def fsync_failing_on_directories(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_failing_on_directories)
    with pytest.raises(OSError, match="Input/output error"):
        writer.append(report(1))

    assert list(spool_dir.iterdir()) == []


def test_the_spool_directory_is_made_private(spool_dir: Path) -> None:
    writer = SpoolWriter(directory=spool_dir)
    writer.append(report(1))
    writer.rotate()

    assert spool_dir.stat().st_mode & 0o077 == 0
    assert spool_files(spool_dir)[0].stat().st_mode & 0o077 == 0


def test_a_replay_leaves_a_file_that_a_live_writer_holds(
    spool_dir: Path, report_store: ReportStore, redis_client: redis.Redis
) -> None:
    writer = SpoolWriter(directory=spool_dir)
    writer.append(report(1))

    assert replay_directory(spool_dir, report_store) == 0
    assert len(spool_files(spool_dir)) == 1
    # the writer's own process lets go of its file first, then replays it
    assert replay_directory(spool_dir, report_store, writer=writer) == 1
    assert spool_files(spool_dir) == []
    assert stream_queries(redis_client) == [report(1).query]


def test_a_replay_moves_files_oldest_first_and_lines_in_order(
    spool_dir: Path, report_store: ReportStore, redis_client: redis.Redis
) -> None:
    first, second = SpoolWriter(directory=spool_dir), SpoolWriter(directory=spool_dir)
    for n in (1, 2):
        first.append(report(n))
    second.append(report(3))
    first.append(report(4))
    first.rotate()
    second.rotate()

    assert replay_directory(spool_dir, report_store) == 4

    assert stream_queries(redis_client) == [report(n).query for n in (1, 2, 4, 3)]
    assert spool_files(spool_dir) == []


def test_a_replay_keeps_received_time_and_source(
    spool_dir: Path, report_store: ReportStore, redis_client: redis.Redis
) -> None:
    writer = SpoolWriter(directory=spool_dir)
    writer.append(report(7))
    writer.rotate()

    replay_directory(spool_dir, report_store)

    [(_, fields)] = redis_client.xrange(keys.REPORTS)
    assert Delivery(fields["query"], int(fields["received_ms"]), fields["source"]) == report(7)


def test_replaying_reports_already_in_redis_adds_nothing(
    spool_dir: Path, report_store: ReportStore, redis_client: redis.Redis
) -> None:
    report_store.append(report(1), report(1).report().dedup_key())
    writer = SpoolWriter(directory=spool_dir)
    for n in (1, 2, 1):
        writer.append(report(n))
    writer.rotate()

    assert replay_directory(spool_dir, report_store) == 3

    assert stream_queries(redis_client) == [report(1).query, report(2).query]


def test_a_torn_last_line_is_skipped_and_the_rest_replayed(
    spool_dir: Path, report_store: ReportStore, redis_client: redis.Redis
) -> None:
    spool_dir.mkdir()
    torn = report(3).to_line()[:-7]
    (spool_dir / "spool-00000000000000000001-1.jsonl").write_bytes(
        report(1).to_line() + report(2).to_line() + torn
    )

    assert replay_directory(spool_dir, report_store) == 2

    assert stream_queries(redis_client) == [report(1).query, report(2).query]
    assert spool_files(spool_dir) == []
    assert redis_client.xlen(keys.REPORTS_MALFORMED) == 0, (
        "a torn line is an unfinished write, not a bad report"
    )


def test_redis_failing_mid_replay_keeps_the_file_and_the_next_replay_adds_each_report_once(
    spool_dir: Path, report_store: ReportStore, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SpoolWriter(directory=spool_dir)
    for n in range(3):
        writer.append(report(n))
    writer.rotate()
    monkeypatch.setattr("supersms.receiver.replay.BATCH_SIZE", 1)
    store_batch = report_store.append_many
    batches = 0

    def redis_gone_after_the_first_batch(batch: list[tuple[Delivery, str]]) -> int:
        nonlocal batches
        batches += 1
        if batches > 1:
            raise StoreUnavailable("Redis went away")
        return store_batch(batch)

    monkeypatch.setattr(report_store, "append_many", redis_gone_after_the_first_batch)
    with pytest.raises(StoreUnavailable):
        replay_directory(spool_dir, report_store)
    assert len(spool_files(spool_dir)) == 1, "the file stays until every report in it is in Redis"

    monkeypatch.setattr(report_store, "append_many", store_batch)
    replay_directory(spool_dir, report_store)
    assert stream_queries(redis_client) == [report(n).query for n in range(3)]
    assert spool_files(spool_dir) == []


@pytest.mark.parametrize(
    "line",
    [
        b"not json\n",
        b"[1, 2]\n",
        b'{"query": "msgid=1", "received_ms": 1, "source": "x"}\n',
        b'{"query": 1}\n',
    ],
)
def test_an_unreadable_line_goes_to_the_malformed_stream_and_the_others_replay(
    spool_dir: Path, report_store: ReportStore, redis_client: redis.Redis, line: bytes
) -> None:
    spool_dir.mkdir()
    (spool_dir / "spool-00000000000000000001-1.jsonl").write_bytes(
        report(1).to_line() + line + report(2).to_line()
    )

    assert replay_directory(spool_dir, report_store) == 2

    assert stream_queries(redis_client) == [report(1).query, report(2).query]
    [(_, kept)] = redis_client.xrange(keys.REPORTS_MALFORMED)
    assert kept["rule"].startswith("spool: ")
    assert kept["query"] == line.decode().rstrip("\n")


def test_replay_spool_moves_a_spool_left_by_a_dead_process(
    spool_dir: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = receiver_settings(redis_url, spool_dir)
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_A_SPOOL, str(spool_dir)], stdout=subprocess.PIPE, stdin=subprocess.PIPE
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline() == b"spooled\n"
            assert replay_spool(settings) == 0  # the writer lives and holds its file
        finally:
            holder.kill()  # by its pid, as a crash would
            holder.wait(timeout=10)

    assert replay_spool(settings) == 2
    assert stream_queries(redis_client) == [report(1).query, report(2).query]
    assert spool_files(spool_dir) == []


HOLD_A_SPOOL = f"""
import sys
from supersms.receiver.delivery import Delivery
from supersms.receiver.spool import SpoolWriter
writer = SpoolWriter(directory=sys.argv[1])
for query in {[report(1).query, report(2).query]!r}:
    writer.append(Delivery(query=query, received_ms=1, source="::1"))
print("spooled", flush=True)
sys.stdin.read()
"""


def test_replay_spool_without_redis_fails_and_keeps_the_spool(
    spool_dir: Path, own_redis: EmbeddedRedis
) -> None:
    writer = SpoolWriter(directory=spool_dir)
    writer.append(report(1))
    writer.rotate()
    own_redis.stop()

    with pytest.raises(StoreUnavailable):
        replay_spool(receiver_settings(own_redis.url, spool_dir))

    assert len(spool_files(spool_dir)) == 1


def test_a_missing_spool_directory_is_nothing_to_replay(tmp_path: Path, report_store: ReportStore) -> None:
    assert replay_directory(tmp_path / "absent", report_store) == 0
    assert not (tmp_path / "absent").exists()


def test_a_spool_under_a_regular_file_is_not_writable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    writer = SpoolWriter(directory=tmp_path / "file" / "spool")

    assert writer.writable() is False
    with pytest.raises(OSError):
        writer.append(report(1))
