"""A real ``redis-server`` for tests: started on a free 127.0.0.1 port, with no persistence.

Fixtures (registered by ``tests/conftest.py``):

- ``redis_server``: one server for the whole session (a :class:`RedisServer`);
- ``redis_url``: its URL (``redis://127.0.0.1:PORT/0``), emptied (``FLUSHALL``) before the test,
  and started again first if an earlier test stopped it;
- ``own_redis_server``: a server of the test's own, for tests that stop, kill and restart it
  (``kill()`` then ``start()`` brings it back on the same port, empty).

Without a ``redis-server`` binary (on ``PATH``, or ``REDIS_SERVER=/path``) the tests that use
them skip, and the run ends with a line saying so; under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

SKIP_REASON = (
    "redis-server not found; install it (apt-get install redis-server) to run them"
    " (or set REDIS_SERVER=/path/to/redis-server)"
)
SUMMARY_LINE = (
    "Redis tests skipped: redis-server not found; install it (apt-get install redis-server) "
    "to run them"
)
START_TIMEOUT = 10.0  # seconds for a server to answer PING
STOP_TIMEOUT = 10.0  # seconds for a server to exit on SIGTERM before it is killed


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1", "yes"}


def find_redis_server() -> str | None:
    """The ``redis-server`` to run: ``$REDIS_SERVER`` if set, else the one on ``PATH``."""
    explicit = os.environ.get("REDIS_SERVER")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("redis-server")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _command(host: str, port: int, *words: str, timeout: float = 1.0) -> bytes:
    """Send one command in RESP and return the first line of the answer (b"+PONG", ...)."""
    request = f"*{len(words)}\r\n".encode()
    for word in words:
        data = word.encode()
        request += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(request)
        answer = b""
        while not answer.endswith(b"\r\n"):
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


class RedisServer:
    """One ``redis-server`` process on ``127.0.0.1:port``, in a directory of its own.

    No persistence (``--save ''``, ``--appendonly no``): a restarted server starts empty.
    ``start``, ``stop`` (SIGTERM), ``kill`` (SIGKILL) and ``restart`` may be called in any
    order; the port stays the same for the life of the object.
    """

    def __init__(self, binary: str, directory: Path, port: int | None = None) -> None:
        self.binary = binary
        self.directory = directory
        self.host = "127.0.0.1"
        self.port = port if port is not None else free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log = directory / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the server (if it is not running) and wait until it answers PING."""
        if self.running:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
            "--logfile",
            str(self._log),
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
        ]
        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary and arguments
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with status {self.process.returncode} on port "
                    f"{self.port}; its log:\n{self._read_log()}"
                )
            with contextlib.suppress(OSError):
                if self.ping():
                    return
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"redis-server did not answer PING on port {self.port} within "
                    f"{START_TIMEOUT:g}s; its log:\n{self._read_log()}"
                )
            time.sleep(0.02)

    def ping(self) -> bool:
        """Whether the server answers PING now (raises ``OSError`` if nothing listens)."""
        return _command(self.host, self.port, "PING") == b"+PONG"

    def flushall(self) -> None:
        """Delete every key of every database."""
        answer = _command(self.host, self.port, "FLUSHALL")
        if answer != b"+OK":
            raise RuntimeError(f"FLUSHALL answered {answer!r}")

    def stop(self) -> None:
        """Stop the server as an operator would (SIGTERM), killing it if it does not exit."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        self._end(signal.SIGKILL)

    def restart(self) -> None:
        """Stop the server (if running) and start it again on the same port, empty."""
        self.stop()
        self.start()

    def _end(self, sig: signal.Signals) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _read_log(self) -> str:
        try:
            return self._log.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"


def redis_server_binary() -> str:
    """The binary to run; skips the test without one (fails it under CI=true)."""
    binary = find_redis_server()
    if binary is None:
        if _ci():
            pytest.fail(f"CI=true and {SKIP_REASON}", pytrace=False)
        pytest.skip(SKIP_REASON)
    return binary


def _start(binary: str, directory: Path) -> RedisServer:
    # A port found free can be taken before the server binds it: try a few.
    for attempt in range(5):
        server = RedisServer(binary, directory)
        try:
            server.start()
        except RuntimeError:
            if attempt == 4:
                raise
        else:
            return server
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A ``redis-server`` shared by the session; see ``redis_url`` for a clean one per test."""
    binary = redis_server_binary()
    with tempfile.TemporaryDirectory(prefix="redis-test-") as directory:
        server = _start(binary, Path(directory))
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared server's URL, running and empty when the test starts."""
    redis_server.start()
    redis_server.flushall()
    return redis_server.url


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A ``redis-server`` for this test alone, to stop, kill and restart at will."""
    binary = redis_server_binary()
    server = _start(binary, tmp_path / "redis")
    try:
        yield server
    finally:
        server.kill()


def redis_skips(terminalreporter: pytest.TerminalReporter) -> int:
    """How many tests of this run skipped for want of ``redis-server``."""
    count = 0
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        if isinstance(longrepr, tuple) and SKIP_REASON in str(longrepr[-1]):
            count += 1
    return count


def report_redis_skips(terminalreporter: pytest.TerminalReporter) -> None:
    """Write a line saying why the Redis tests skipped and what to do, if they did."""
    skipped = redis_skips(terminalreporter)
    if skipped:
        terminalreporter.write_sep("-", "redis", yellow=True)
        terminalreporter.write_line(f"{SUMMARY_LINE} ({skipped} skipped).", yellow=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter,
) -> Generator[None, None, None]:
    """The Redis note, if needed, after pytest's own summary and just before its last line.

    (A ``tryfirst`` wrapper is the outermost, so its code after ``yield`` runs after the
    terminal reporter's short test summary.)
    """
    try:
        return (yield)
    finally:
        report_redis_skips(terminalreporter)
