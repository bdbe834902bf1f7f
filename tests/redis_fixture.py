"""A real ``redis-server`` for tests: started on a free 127.0.0.1 port, with no persistence.

Fixtures (registered by ``tests/conftest.py``):

- ``redis_server``: one server for the whole session (a :class:`RedisServer`);
- ``redis_url``: its URL (``redis://127.0.0.1:PORT/0``), emptied (``FLUSHALL``) before the test,
  and started again first if an earlier test stopped it;
- ``own_redis_server``: a server of the test's own, for tests that stop, kill and restart it
  (``kill()`` then ``start()`` brings it back on the same port, empty);
- ``redis_cluster``: a Redis Cluster of three masters (``--cluster-enabled yes``, joined by
  ``redis-cli --cluster create``), started once per session, every master emptied before the test;
- ``redis_sentinel``: a master and a ``redis-server --sentinel`` watching it, for the test alone.

These fixtures are not in ``conftest.py``: a test module imports the ones it uses.

Without a ``redis-server`` binary (on ``PATH``, or ``REDIS_SERVER=/path``) the tests that use
them skip (the cluster's, without ``redis-cli`` too), and the run ends with a line saying so;
under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

import attrs
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

    def __init__(
        self,
        binary: str,
        directory: Path,
        port: int | None = None,
        *,
        config: Path | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        self.binary = binary
        self.directory = directory
        self.host = "127.0.0.1"
        self.port = port if port is not None else free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log = directory / "redis.log"
        self._config = config  # a configuration file, first (a sentinel needs one)
        self._extra = tuple(extra)  # more options, last ("--cluster-enabled", "yes", ...)

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
            *([str(self._config)] if self._config is not None else []),
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
            *self._extra,
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


def _start(
    binary: str, directory: Path, *, config: Path | None = None, extra: Sequence[str] = ()
) -> RedisServer:
    # A port found free can be taken before the server binds it: try a few.
    for attempt in range(5):
        server = RedisServer(binary, directory, config=config, extra=extra)
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


# -- Redis Cluster and Sentinel -------------------------------------------------------------------

CLI_SKIP_REASON = (
    "redis-cli not found; install it (apt-get install redis-tools) to run the Redis Cluster tests"
    " (or set REDIS_CLI=/path/to/redis-cli)"
)
CLUSTER_TIMEOUT = 30.0  # seconds for three masters to agree on the slots


def find_redis_cli() -> str | None:
    """The ``redis-cli`` to run: ``$REDIS_CLI`` if set, else the one on ``PATH``."""
    explicit = os.environ.get("REDIS_CLI")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("redis-cli")


def redis_cli_binary() -> str:
    """``redis-cli``, for ``--cluster create``; skips the test without one (fails it under CI)."""
    binary = find_redis_cli()
    if binary is None:
        if _ci():
            pytest.fail(f"CI=true and {CLI_SKIP_REASON}", pytrace=False)
        pytest.skip(CLI_SKIP_REASON)
    return binary


def free_cluster_port() -> int:
    """A port on 127.0.0.1 that is free, and whose cluster bus port (port + 10000) is too."""
    for _ in range(200):
        port = random.randint(20000, 55000)
        try:
            with socket.socket() as first, socket.socket() as second:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return port
    raise RuntimeError("no free pair of ports (port, port + 10000) for a cluster node")


class RedisClusterNodes:
    """Three ``redis-server --cluster-enabled yes`` masters on 127.0.0.1, made one Redis Cluster
    by ``redis-cli --cluster create`` (no replicas): the slots are split in three."""

    def __init__(self, binary: str, cli: str, directory: Path) -> None:
        self.cli = cli
        self.nodes: list[RedisServer] = []
        for n in range(3):
            home = directory / f"node{n}"
            options = (
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(home / "nodes.conf"),
            )
            self.nodes.append(RedisServer(binary, home, free_cluster_port(), extra=options))

    @property
    def host(self) -> str:
        return self.nodes[0].host

    @property
    def port(self) -> int:
        """The port of one node: a cluster client learns the others from it."""
        return self.nodes[0].port

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        addresses = [f"{node.host}:{node.port}" for node in self.nodes]
        created = subprocess.run(  # noqa: S603 - a fixed binary and arguments
            [self.cli, "--cluster", "create", *addresses, "--cluster-yes"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=CLUSTER_TIMEOUT,
            check=False,
        )
        if created.returncode != 0:
            raise RuntimeError(
                f"redis-cli --cluster create failed ({created.returncode}):\n"
                f"{created.stdout.decode(errors='replace')}{created.stderr.decode(errors='replace')}"
            )
        deadline = time.monotonic() + CLUSTER_TIMEOUT
        while not all(self._ok(node) for node in self.nodes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster {addresses} did not reach cluster_state:ok")
            time.sleep(0.05)

    def _ok(self, node: RedisServer) -> bool:
        info = subprocess.run(  # noqa: S603 - a fixed binary and arguments
            [self.cli, "-h", node.host, "-p", str(node.port), "CLUSTER", "INFO"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=5,
            check=False,
        )
        return b"cluster_state:ok" in info.stdout

    def flushall(self) -> None:
        for node in self.nodes:
            node.flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@pytest.fixture(scope="session")
def redis_cluster_nodes() -> Iterator[RedisClusterNodes]:
    """A three-master Redis Cluster shared by the session; see ``redis_cluster``."""
    binary = redis_server_binary()
    cli = redis_cli_binary()
    with tempfile.TemporaryDirectory(prefix="redis-cluster-test-") as directory:
        cluster = RedisClusterNodes(binary, cli, Path(directory))
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture
def redis_cluster(redis_cluster_nodes: RedisClusterNodes) -> RedisClusterNodes:
    """The session's Redis Cluster, every master empty when the test starts."""
    redis_cluster_nodes.flushall()
    return redis_cluster_nodes


@attrs.frozen
class RedisSentinel:
    """A master ``redis-server`` and a ``redis-server --sentinel`` that watches it as ``name``."""

    master: RedisServer
    sentinel: RedisServer
    name: str = "budget-master"


@pytest.fixture
def redis_sentinel(tmp_path: Path) -> Iterator[RedisSentinel]:
    """A master and a sentinel of this test's own: ``Sentinel.master_for(name)`` finds it."""
    binary = redis_server_binary()
    master = _start(binary, tmp_path / "master")
    sentinel: RedisServer | None = None
    try:
        home = tmp_path / "sentinel"
        home.mkdir()
        config = home / "sentinel.conf"  # a sentinel rewrites its configuration file
        config.write_text(f"sentinel monitor budget-master {master.host} {master.port} 1\n")
        sentinel = _start(binary, home, config=config, extra=("--sentinel",))
        yield RedisSentinel(master, sentinel)
    finally:
        if sentinel is not None:
            sentinel.kill()
        master.kill()


def redis_skips(terminalreporter: pytest.TerminalReporter) -> int:
    """How many tests of this run skipped for want of ``redis-server``."""
    count = 0
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        if isinstance(longrepr, tuple) and (
            SKIP_REASON in str(longrepr[-1]) or CLI_SKIP_REASON in str(longrepr[-1])
        ):
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
