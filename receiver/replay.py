"""Moving spooled reports into the Redis stream once Redis answers again, without duplicates.

A replay takes the spool files oldest first, each under its exclusive lock, adds their reports in order
through the same dedup script as the receiver (so replaying a report twice, or one that reached Redis after
all, adds it once), and deletes a file only after every line of it is in Redis. A failure midway leaves the
file for the next round, which skips what already went in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

from supersms.errors import StoreUnavailable
from supersms.receiver.delivery import Delivery
from supersms.receiver.spool import SpoolWriter, claimed, complete_lines, spool_files
from supersms.receiver.store import ReportStore
from supersms.receiver.validation import accept
from supersms.settings import Settings
from supersms.workers.redis_io import connect

logger = logging.getLogger(__name__)

REPLAY_INTERVAL_S = 3.0
BATCH_SIZE = 200
SPOOL_SOURCE = "spool"  # the source of an unreadable spool line kept for inspection


def replay_spool(settings: Settings) -> int:
    """Replay every spool file in ``settings.spool_dir`` that no live process holds; returns the count moved.

    Raises :class:`StoreUnavailable` when Redis does not answer (nothing is lost: the files stay).
    """
    client = connect(settings.redis_url)
    try:
        return replay_directory(settings.spool_dir, ReportStore(redis=client))
    finally:
        client.close()


def replay_directory(directory: str | Path, store: ReportStore, *, writer: SpoolWriter | None = None) -> int:
    """Replay the spool files of ``directory`` oldest first; ``writer``'s own file is let go of first."""
    if not spool_files(directory):
        return 0
    store.ping()
    if writer is not None:
        writer.rotate()
    return sum(replay_file(path, store) for path in spool_files(directory))


def replay_file(path: Path, store: ReportStore) -> int:
    """Move one spool file's reports into the stream and delete it; 0 when another process holds it."""
    with claimed(path) as file:
        if file is None:
            return 0
        moved = 0
        for batch in _batches(_reports(complete_lines(file), store)):
            store.append_many(batch)
            moved += len(batch)
        path.unlink()
    logger.info("replayed %d spooled reports from %s", moved, path)
    return moved


def _reports(lines: Iterable[bytes], store: ReportStore) -> Iterator[tuple[Delivery, str]]:
    """Each readable line as (delivery, dedup key); an unreadable one is kept aside for inspection."""
    for line in lines:
        try:
            delivery = Delivery.from_line(line)
            dedup_key = accept(delivery.query).dedup_key
        except ValueError as error:  # bad JSON or UTF-8, or a report that does not validate (InvalidReport)
            logger.error("spool: keeping an unreadable line aside in the malformed stream: %s", error)
            raw = line.decode("utf-8", "backslashreplace").rstrip("\n")
            store.keep_malformed(Delivery.now(raw, SPOOL_SOURCE), f"spool: {error}")
            continue
        yield delivery, dedup_key


def _batches(items: Iterator[tuple[Delivery, str]]) -> Iterator[list[tuple[Delivery, str]]]:
    while batch := list(islice(items, BATCH_SIZE)):
        yield batch


class Replayer:
    """A daemon thread that replays the spool every ``interval_s`` and whenever it is nudged."""

    def __init__(self, *, replay: Callable[[], int], interval_s: float = REPLAY_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._replay = replay
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supersms-spool-replay", daemon=True)

    def start(self) -> Replayer:
        self._thread.start()
        return self

    def nudge(self) -> None:
        """Replay now (e.g. Redis answers again) rather than at the next tick."""
        self._wake.set()

    def is_alive(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def stop(self, *, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            self._round()
            self._wake.wait(self.interval_s)

    def _round(self) -> None:
        try:
            self._replay()
        except StoreUnavailable as error:
            logger.debug("spool replay waits for Redis: %s", error)
        except Exception:
            logger.exception("spool replay failed; trying again in %.1f s", self.interval_s)
