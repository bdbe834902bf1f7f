"""Where the client sends its requests: ``INTERCOM_BASE_URL`` read as the token is read (an
explicit ``base_url`` wins), and ``region`` checked even when a base URL replaces it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from intercom_async import IntercomClient
from intercom_async._protocol import REGIONS, resolve_base_url
from intercom_async.testing import FakeIntercom

TOKEN = "tok_BASE-URL-distinctive-SECRET-51d0"
ENV = "INTERCOM_BASE_URL"


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    async with FakeIntercom(token=TOKEN, tickets=5) as server:
        yield server


async def test_the_base_url_comes_from_the_environment(
    fake: FakeIntercom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, fake.base_url + "/")
    async with IntercomClient(TOKEN) as client:
        assert client.base_url == fake.base_url
        ticket = await client.tickets.get("3")
    assert ticket.id == "3"
    assert [request.path for request in fake.requests] == ["/tickets/3"]


async def test_an_explicit_base_url_wins_over_the_environment(
    fake: FakeIntercom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "ftp://not-even-a-valid-one")
    async with IntercomClient(TOKEN, base_url=fake.base_url) as client:
        assert (await client.tickets.get("2")).id == "2"


@pytest.mark.parametrize("value", ["", "   "])
def test_a_blank_variable_is_no_base_url(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(ENV, value)
    assert IntercomClient(TOKEN, region="eu").base_url == REGIONS["eu"]


def test_the_variable_wins_over_the_region_as_base_url_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV, "https://intercom-proxy.example")
    assert IntercomClient(TOKEN, region="eu").base_url == "https://intercom-proxy.example"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ftp://example.com", "absolute http(s) URL"),
        ("http://example.com", "plain http"),
        ("https://user:pw@example.com", "credentials"),
    ],
)
def test_a_bad_variable_says_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv(ENV, value)
    with pytest.raises(ValueError, match=ENV) as info:
        IntercomClient(TOKEN)
    assert message in str(info.value)
    assert TOKEN not in str(info.value)
    assert "pw" not in str(info.value)


def test_the_variable_honours_allow_insecure_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "http://intercom-proxy.internal")
    client = IntercomClient(TOKEN, allow_insecure_http=True)
    assert client.base_url == "http://intercom-proxy.internal"


@pytest.mark.parametrize("base_url", [None, "https://intercom-proxy.example"])
def test_an_unknown_region_is_refused_even_with_a_base_url(
    monkeypatch: pytest.MonkeyPatch, base_url: str | None
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(ValueError, match="unknown region 'xx'"):
        IntercomClient(TOKEN, region="xx", base_url=base_url)
    with pytest.raises(ValueError, match="unknown region 'xx'"):
        resolve_base_url("xx", base_url)


def test_an_unknown_region_is_refused_with_the_variable_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV, "https://intercom-proxy.example")
    with pytest.raises(ValueError, match="unknown region"):
        IntercomClient(TOKEN, region="mars")
