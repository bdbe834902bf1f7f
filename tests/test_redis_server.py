"""The Redis fixtures (``redis_fixture.py``) run a real redis-server that tests can kill."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from .redis_fixture import (
    SKIP_REASON,
    SUMMARY_LINE,
    RedisServer,
    redis_server_binary,
    report_redis_skips,
)


def connect(url: str) -> aioredis.Redis:
    """A client that reports a lost server at once instead of retrying."""
    client: aioredis.Redis = aioredis.Redis.from_url(
        url, retry=Retry(NoBackoff(), 0), socket_timeout=5
    )
    return client


async def test_the_shared_server_answers_ping_set_and_get(redis_url: str) -> None:
    client = connect(redis_url)
    try:
        assert await client.ping() is True
        assert await client.set("ticket:1", "open") is True
        assert await client.get("ticket:1") == b"open"
    finally:
        await client.aclose()


async def test_redis_url_starts_each_test_empty_and_running(
    redis_server: RedisServer, redis_url: str
) -> None:
    assert redis_url == redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    client = connect(redis_url)
    try:
        assert await client.dbsize() == 0
    finally:
        await client.aclose()


async def test_a_killed_server_comes_back_on_the_same_port_empty(
    own_redis_server: RedisServer,
) -> None:
    url = own_redis_server.url
    client = connect(url)
    try:
        await client.set("budget", 10)
        own_redis_server.kill()
        assert not own_redis_server.running
        with pytest.raises(RedisConnectionError):
            await client.get("budget")

        own_redis_server.start()
        assert own_redis_server.url == url
        assert await client.get("budget") is None  # the same client reconnects; nothing persisted
        await client.set("budget", 9)
        assert await client.get("budget") == b"9"

    finally:
        await client.aclose()

    own_redis_server.restart()  # SIGTERM, then up again on the same port
    assert own_redis_server.running and own_redis_server.ping()
    client = connect(url)
    try:
        assert await client.get("budget") is None
    finally:
        await client.aclose()


def test_without_redis_server_the_tests_skip(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REDIS_SERVER", str(tmp_path / "no-redis-server"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="redis-server not found"):
        redis_server_binary()


def test_without_redis_server_ci_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REDIS_SERVER", str(tmp_path / "no-redis-server"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and redis-server not found"):
        redis_server_binary()


class _Reporter:
    """The part of pytest's terminal reporter that the summary hook uses."""

    def __init__(self, skipped: list[object]) -> None:
        self.stats = {"skipped": skipped}
        self.lines: list[str] = []

    def write_sep(self, sep: str, title: str, **markup: bool) -> None:
        self.lines.append(f"{sep} {title}")

    def write_line(self, line: str, **markup: bool) -> None:
        self.lines.append(line)


def test_the_run_ends_with_a_line_when_redis_tests_skipped() -> None:
    redis_skip = SimpleNamespace(longrepr=("tests/test_x.py", 3, f"Skipped: {SKIP_REASON}"))
    other_skip = SimpleNamespace(longrepr=("tests/test_y.py", 5, "Skipped: not on Windows"))
    reporter = _Reporter([redis_skip, other_skip, redis_skip])
    report_redis_skips(reporter)  # type: ignore[arg-type]
    assert reporter.lines[-1] == f"{SUMMARY_LINE} (2 skipped)."

    quiet = _Reporter([other_skip])
    report_redis_skips(quiet)  # type: ignore[arg-type]
    assert quiet.lines == []
