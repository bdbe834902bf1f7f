"""The access token stays secret: no repr, log line, error, traceback or request log shows it."""

from __future__ import annotations

import logging
import pickle
import traceback
from typing import Any

import pytest

import intercom_async
from intercom_async import IntercomClient, IntercomError, RetryPolicy
from intercom_async.testing import FakeIntercom, Fault

SECRET = "dG9rOmRpc3RpbmN0aXZlLXNlY3JldC03NzE5"


def exception_text(error: BaseException) -> str:
    """Everything a traceback can show, the frames' local variables included."""
    rendered = traceback.TracebackException.from_exception(error, capture_locals=True)
    return "".join(rendered.format()) + repr(error) + repr(error.args) + repr(vars(error))


async def test_the_token_appears_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    texts: list[str] = []
    caplog.set_level(logging.DEBUG)  # every logger, aiohttp's included
    async with FakeIntercom(token=SECRET, tickets=3) as fake:
        fake.inject("2", Fault.status(503), times=1)
        fake.inject("3", Fault.status(500), times=None)
        async with fake.client(retry=RetryPolicy.no_wait(max_attempts=2)) as client:
            ticket = await client.tickets.get("1")
            await client.tickets.get("2")
            results = await client.tickets.get_all(["3", "missing", ""])
            texts += [repr(client), str(client), repr(client.tickets), repr(client.stats)]
            texts += [repr(ticket), repr(client.rate_limit), repr(results)]
            texts += [repr(vars(client)), repr(client._transport.headers)]
        texts += [exception_text(r.error) for r in results if r.error is not None]
        async with fake.client(token="wrong-" + SECRET) as wrong:
            with pytest.raises(IntercomError) as info:
                await wrong.tickets.get("1")
            texts.append(exception_text(info.value))
        texts += [repr(request) for request in fake.requests]
    texts.append(caplog.text)

    assert len(texts) > 10
    for text in texts:
        assert SECRET not in text


async def test_plain_http_to_another_host_is_refused_unless_asked_for() -> None:
    with pytest.raises(ValueError, match="plain http") as info:
        IntercomClient(SECRET, base_url="http://intercom.example.com")
    assert SECRET not in str(info.value)
    client = IntercomClient(
        SECRET, base_url="http://intercom.example.com", allow_insecure_http=True
    )
    assert client.base_url == "http://intercom.example.com"
    await client.aclose()


def test_construction_errors_do_not_echo_the_token() -> None:
    bad: list[dict[str, Any]] = [{"region": "xx"}, {"version": "nine"}, {"timeout": -1}]
    for kwargs in [*bad, {"retry": "x"}, {"max_connections": 0}]:
        with pytest.raises((ValueError, TypeError)) as info:
            IntercomClient(SECRET, **kwargs)
        assert SECRET not in exception_text(info.value)
    with pytest.raises(ValueError, match="line break") as info:
        IntercomClient(SECRET + "\r\nX-Evil: 1")  # no local of this test holds it either
    assert SECRET not in exception_text(info.value)


def test_every_public_name_has_a_docstring() -> None:
    missing = [
        name
        for name in intercom_async.__all__
        if name != "__version__" and not (getattr(intercom_async, name).__doc__ or "").strip()
    ]
    assert missing == []


def test_a_client_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(IntercomClient(SECRET))
