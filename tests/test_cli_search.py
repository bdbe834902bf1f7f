"""``intercom-async search``, run as a user runs it (a subprocess against a ``FakeIntercom`` on
127.0.0.1), and its pieces that need no process: the date of ``--updated-since`` and how the
query is put together."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from intercom_async._cli.common import UsageProblem
from intercom_async._cli.search import combine, parse_since
from intercom_async.testing import FakeIntercom, Fault, generate_ticket

from .conftest import drop_nulls
from .test_cli import ROOT, TOKEN, WRONG_TOKEN, check_clean, cli, cli_env

SEED = 5
PARTS = 2
NOV_1_2026 = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
RECENT = ["101", "102", "103"]  # updated in November 2026; the generated ones in 2024


def recent_ticket(ticket_id: str, offset: int) -> dict[str, Any]:
    data = generate_ticket(ticket_id, parts=PARTS, seed=SEED, version="2.10")
    data["updated_at"] = NOV_1_2026 + offset
    return data


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    async with FakeIntercom(token=TOKEN, tickets=20, seed=SEED, parts=PARTS) as server:
        for n, ticket_id in enumerate(RECENT):
            server.add_ticket(recent_ticket(ticket_id, n * 3600))
        server.add_ticket(recent_ticket("100", -1))  # a second before midnight: left out
        yield server


def search_versions(fake: FakeIntercom) -> list[str]:
    return [r.headers["Intercom-Version"] for r in fake.requests if r.route]


async def test_search_writes_each_ticket_as_a_json_line(fake: FakeIntercom) -> None:
    query = '{"field": "id", "operator": "IN", "value": ["3", "5"]}'
    run = await cli("search", query, "--base-url", fake.base_url)
    assert run.status == 0, run.stderr
    tickets = [json.loads(line) for line in run.stdout_lines]
    expected = [generate_ticket(i, parts=PARTS, seed=SEED, version="2.10") for i in ("3", "5")]
    assert tickets == [drop_nulls(t) for t in expected]
    assert search_versions(fake) == ["2.10"]  # search's own default, not 2.9


async def test_updated_since_alone_and_with_a_query(fake: FakeIntercom) -> None:
    run = await cli("search", "--updated-since", "2026-11-01", "--ids", "--base-url", fake.base_url)
    assert (run.status, run.stdout_lines) == (0, RECENT), run.stderr
    for since in (str(NOV_1_2026 + 3600), "2026-11-01T01:00:00Z", "2026-11-01T02:00:00+01:00"):
        run = await cli("search", "--updated-since", since, "--ids", "--base-url", fake.base_url)
        assert run.stdout_lines == RECENT[1:], since
    query = '{"operator": "AND", "value": [{"field": "id", "operator": "!=", "value": "102"}]}'
    run = await cli(
        "search", query, "--updated-since", "2026-11-01", "--ids", "--base-url", fake.base_url
    )
    assert (run.status, run.stdout_lines) == (0, ["101", "103"]), run.stderr


async def test_the_query_from_a_file_or_stdin(fake: FakeIntercom, tmp_path: Path) -> None:
    query = {"field": "id", "operator": "=", "value": "7"}
    path = tmp_path / "query.json"
    path.write_text(json.dumps(query), encoding="utf-8")
    run = await cli("search", path, "--ids", "--base-url", fake.base_url)
    assert (run.status, run.stdout) == (0, "7\n"), run.stderr
    run = await cli(
        "search", "-", "--ids", "--base-url", fake.base_url, stdin=json.dumps(query).encode()
    )
    assert (run.status, run.stdout) == (0, "7\n"), run.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ['{"field": "updated_at", "operator": "~", "value": 1}'],
            "malformed query: query.operator",
        ),
        (['{"field": "id"'], "the query is not JSON"),
        (["no-such-file.json"], "cannot read the query file 'no-such-file.json'"),
        ([], "no query"),
        (["--updated-since", "yesterday"], "is not a date"),
        (["--updated-since", "0", "--api-version", "2.9"], "--api-version 2.10"),
        (["--updated-since", "0", "-V", "2.7"], "search needs Intercom API 2.10 or later"),
    ],
)
async def test_bad_input_is_status_2_before_any_request(
    fake: FakeIntercom, args: list[str], words: str
) -> None:
    run = await cli("search", *args, "--base-url", fake.base_url)
    assert run.status == 2
    assert words in run.stderr
    assert run.stdout == ""
    assert fake.requests == []


async def test_a_newer_version_is_used_as_given(fake: FakeIntercom) -> None:
    run = await cli("-V", "2.14", "search", '{"field": "id", "operator": "=", "value": "2"}',
                    "--ids", "--base-url", fake.base_url)  # fmt: skip
    assert (run.status, run.stdout) == (0, "2\n"), run.stderr
    assert search_versions(fake) == ["2.14"]


async def test_retries_go_on_from_the_same_page_and_failures_have_their_status(
    fake: FakeIntercom,
) -> None:
    fake.inject_route("POST /tickets/search", Fault.status(503), times=2)
    run = await cli("search", "--updated-since", "0", "--ids", "--per-page", "5",
                    "--base-url", fake.base_url)  # fmt: skip
    assert run.status == 0, run.stderr
    assert run.stdout_lines == [str(n) for n in range(1, 21)] + ["100", *RECENT]
    run = await cli(
        "search", "--updated-since", "0", "--base-url", fake.base_url, token=WRONG_TOKEN
    )
    assert run.status == 4
    assert run.stderr.startswith("error: ")


async def test_search_ids_piped_into_get_many(fake: FakeIntercom) -> None:
    """``search --ids | get-many``, two processes joined by a real pipe."""
    read_end, write_end = os.pipe()
    common = ("--base-url", fake.base_url)
    try:
        searcher = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "intercom_async", "search", "--updated-since", "2026-11-01",
            "--ids", "--per-page", "1", *common,
            stdin=asyncio.subprocess.DEVNULL, stdout=write_end, stderr=asyncio.subprocess.PIPE,
            env=cli_env(), cwd=ROOT,
        )  # fmt: skip
        getter = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "intercom_async", "get-many", "--ordered", *common,
            stdin=read_end, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=cli_env(), cwd=ROOT,
        )  # fmt: skip
    finally:
        os.close(read_end)
        os.close(write_end)
    (_, search_err), (out, get_err) = await asyncio.wait_for(
        asyncio.gather(searcher.communicate(), getter.communicate()), 30
    )
    check_clean(out.decode(), search_err.decode() + get_err.decode())
    assert (searcher.returncode, getter.returncode) == (0, 0), get_err.decode()
    tickets = [json.loads(line) for line in out.decode().splitlines()]
    assert [t["id"] for t in tickets] == RECENT
    assert tickets == [drop_nulls(recent_ticket(i, n * 3600)) for n, i in enumerate(RECENT)]
    searches = [r for r in fake.requests if r.route == "POST /tickets/search"]
    assert len(searches) == 3  # one ticket a page


async def test_a_reader_that_goes_away_ends_it_quietly_with_141() -> None:
    async with FakeIntercom(token=TOKEN, tickets=150, seed=SEED, parts=5) as fake:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "intercom_async", "search", "--updated-since", "0",
            "--per-page", "10", "--base-url", fake.base_url,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=cli_env(), cwd=ROOT,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        first = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert json.loads(first)["id"] == "1"  # a whole line
        proc.stdout.feed_eof()
        transport = proc._transport  # type: ignore[attr-defined]
        transport.get_pipe_transport(1).close()  # `| head -1`: the reader closes the pipe
        err = await asyncio.wait_for(proc.stderr.read(), 20)
        status = await asyncio.wait_for(proc.wait(), 20)
        assert status == 141
        assert err == b""
        pages = len([r for r in fake.requests if r.route == "POST /tickets/search"])
    assert pages < 15  # it stopped: not every page of 150 tickets


# -- without a process ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2026-11-01", NOV_1_2026),
        ("1790812800", 1790812800),
        ("0", 0),
        ("2026-11-01T00:00:00", NOV_1_2026),
        ("2026-11-01T00:00:00Z", NOV_1_2026),
        ("2026-11-01T01:00:00+01:00", NOV_1_2026),
        (" 2026-11-01 ", NOV_1_2026),
    ],
)
def test_parse_since(text: str, seconds: int) -> None:
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "-5", "1.5", "2026/11/01"])
def test_parse_since_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        parse_since(text)


def test_combine() -> None:
    recent = {"field": "updated_at", "operator": ">", "value": 99}
    state = {"field": "state", "operator": "=", "value": "submitted"}
    assert combine(None, 100) == recent
    assert combine(state, None) == state
    assert combine(state, 100) == {"operator": "AND", "value": [state, recent]}
    group = {"operator": "AND", "value": [state]}
    assert combine(group, 100) == {"operator": "AND", "value": [state, recent]}  # no deeper
    either = {"operator": "OR", "value": [state, state]}
    assert combine(either, 100) == {"operator": "AND", "value": [either, recent]}
    with pytest.raises(UsageProblem, match="no query"):
        combine(None, None)
    deep = {"operator": "OR", "value": [{"operator": "AND", "value": [state]}]}
    with pytest.raises(UsageProblem, match=r"malformed query: .*nest at most 2"):
        combine(deep, 100)
