"""Credentials that Redis refuses are a configuration error, not an outage.

A real ``redis-server`` that wants a password (and has a user who may not touch the budget's
key) refuses a wrong password (``WRONGPASS``), none (``NOAUTH``) and that user (``NOPERM``):
the client says so once, at ERROR, in words that say what to fix, and paces itself alone.
"""

from __future__ import annotations

import logging

import pytest

from intercom_async.redis import RedisQuota
from intercom_async.testing import FakeIntercom

from .redis_fixture import RedisServer, _command

TOKEN = "tok_REDIS-credentials-distinctive-SECRET-e4a9"
PASSWORD = "pw-right-distinctive-SECRET-51"
WRONG = "pw-WRONG-distinctive-SECRET-52"
ELSEWHERE = "pw-elsewhere-distinctive-SECRET-53"


def guarded(server: RedisServer) -> None:
    """Make ``server`` want ``PASSWORD``, with a user ``elsewhere`` kept to ``elsewhere:*``."""
    acl = ("ACL", "SETUSER", "elsewhere", "on", f">{ELSEWHERE}", "~elsewhere:*", "+@all")
    assert _command(server.host, server.port, *acl) == b"+OK"
    assert _command(server.host, server.port, "CONFIG", "SET", "requirepass", PASSWORD) == b"+OK"


def url(server: RedisServer, refusal: str) -> str:
    where = f"{server.host}:{server.port}/0"
    return {
        "WRONGPASS": f"redis://:{WRONG}@{where}",
        "NOAUTH": f"redis://{where}",
        "NOPERM": f"redis://elsewhere:{ELSEWHERE}@{where}",
    }[refusal]


@pytest.mark.parametrize("refusal", ["WRONGPASS", "NOAUTH", "NOPERM"])
async def test_refused_credentials_are_one_error_that_says_it_is_the_configuration(
    own_redis_server: RedisServer, refusal: str, caplog: pytest.LogCaptureFixture
) -> None:
    guarded(own_redis_server)
    quota = RedisQuota(url(own_redis_server, refusal), app="guarded")
    async with FakeIntercom(token=TOKEN, tickets=30, parts=1) as fake:
        with caplog.at_level(logging.DEBUG, logger="intercom_async"):
            async with fake.client(quota=quota) as client:
                results = await client.tickets.get_all(map(str, range(1, 31)))
                assert client._quota.shared is False  # type: ignore[attr-defined]
    assert all(result.ok for result in results)  # paced alone, by the headers
    lines = [r for r in caplog.records if "shared rate-limit budget" in r.getMessage()]
    [line] = lines  # once, and not as an outage
    assert line.levelno == logging.ERROR
    message = line.getMessage()
    assert "Redis refused the credentials" in message
    assert "a configuration error, not an outage" in message
    assert "user, password and ACL permissions" in message
    assert "is unavailable" not in message
    for secret in (PASSWORD, WRONG, ELSEWHERE, TOKEN):
        assert secret not in caplog.text


async def test_the_right_password_shares_the_budget_and_logs_nothing(
    own_redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The right password: Redis answers, and nothing is logged at ERROR.
    guarded(own_redis_server)
    right = f"redis://:{PASSWORD}@{own_redis_server.host}:{own_redis_server.port}/0"
    async with FakeIntercom(token=TOKEN, tickets=10, parts=1) as fake:
        with caplog.at_level(logging.DEBUG, logger="intercom_async"):
            async with fake.client(quota=RedisQuota(right, app="guarded")) as client:
                results = await client.tickets.get_all(map(str, range(1, 11)))
                assert client._quota.shared  # type: ignore[attr-defined]
    assert all(result.ok for result in results)
    assert [r for r in caplog.records if "shared rate-limit budget" in r.getMessage()] == []
