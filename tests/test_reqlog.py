"""``INTERCOM_ASYNC_LOG``: one log line per request, whether the application set up logging or not
(``_reqlog.py``), driven by synthetic calls."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from intercom_async import RateLimitError
from intercom_async._observe import Observer, build_observer
from intercom_async._reqlog import RequestLog, _StderrHandler

BASE = "https://api.intercom.io"
logger = logging.getLogger("intercom_async")


@pytest.fixture(autouse=True)
def restore_logger() -> Iterator[None]:
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def a_retried_call(observer: Observer, clock: Clock) -> None:
    call = observer.call("GET", "/tickets/{id}", "/tickets/1295")
    await call.rate_limit_wait_started(1.5, "shared")
    clock.now += 1.25
    call.rate_limit_wait_ended()
    await call.attempt_started()
    clock.now += 0.125
    error = RateLimitError(429, request_id="req_1")
    await call.attempt_ended(status=429, request_id="req_1", error=error)
    await call.retrying(error, 2.0)
    await call.attempt_started()
    clock.now += 0.5
    await call.attempt_ended(status=200, request_id="req_2")
    call.ended(status=200)


def with_clock(environ: dict[str, str]) -> tuple[Observer, Clock]:
    built = build_observer(base_url=BASE, environ=environ)
    clock = Clock()
    return Observer(built.sinks, clock=clock), clock


async def test_info_logs_one_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    observer, clock = with_clock({"INTERCOM_ASYNC_LOG": "info"})
    assert logger.level == logging.INFO
    await a_retried_call(observer, clock)
    lines = [r.getMessage() for r in caplog.records if r.name == "intercom_async"]
    assert lines == [
        "GET /tickets/{id} 429 request_id=req_1 attempt=1 elapsed=0.125s wait=1.250s",
        "GET /tickets/{id} 200 request_id=req_2 attempt=2 elapsed=0.500s wait=0.000s",
    ]


async def test_debug_adds_the_path_the_waits_and_the_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    observer, clock = with_clock({"INTERCOM_ASYNC_LOG": " DEBUG "})
    assert logger.level == logging.DEBUG
    await a_retried_call(observer, clock)
    observer.budget_call(0.004, "ok")
    lines = [r.getMessage() for r in caplog.records if r.name == "intercom_async"]
    assert lines == [
        "GET /tickets/{id} path=/tickets/1295 attempt=1: waiting 1.500s for its turn "
        "(shared pacing)",
        "GET /tickets/{id} path=/tickets/1295 attempt=1: sending",
        "GET /tickets/{id} 429 request_id=req_1 attempt=1 elapsed=0.125s wait=1.250s "
        "path=/tickets/1295",
        "GET /tickets/{id} path=/tickets/1295 attempt=1: retrying in 2.000s (status, 429)",
        "GET /tickets/{id} path=/tickets/1295 attempt=2: sending",
        "GET /tickets/{id} 200 request_id=req_2 attempt=2 elapsed=0.500s wait=0.000s "
        "path=/tickets/1295",
        "shared budget call: ok in 0.004s",
    ]


def test_unset_or_blank_is_off_and_one_handler_for_many_clients() -> None:
    for environ in ({}, {"INTERCOM_ASYNC_LOG": "  "}):
        sinks = build_observer(base_url=BASE, environ=environ).sinks
        assert not [sink for sink in sinks if isinstance(sink, RequestLog)]
    assert not [h for h in logger.handlers if isinstance(h, _StderrHandler)]
    for _ in range(3):
        build_observer(base_url=BASE, environ={"INTERCOM_ASYNC_LOG": "info"})
    assert len([h for h in logger.handlers if isinstance(h, _StderrHandler)]) == 1


def test_a_lower_level_set_by_the_app_is_kept() -> None:
    logger.setLevel(logging.DEBUG)
    build_observer(base_url=BASE, environ={"INTERCOM_ASYNC_LOG": "info"})
    assert logger.level == logging.DEBUG


# An application as run in production, in a fresh interpreter: pytest's own log capture would
# otherwise count as the application's logging.
APP = textwrap.dedent(
    """
    import asyncio, logging, os, sys
    from intercom_async import RateLimitError
    from intercom_async._observe import build_observer

    async def main():
        if sys.argv[1] == "before":
            logging.basicConfig(stream=sys.stdout, format="APP %(name)s %(message)s")
        observer = build_observer(base_url="https://api.intercom.io")  # reads os.environ
        if sys.argv[1] == "after":
            logging.basicConfig(stream=sys.stdout, format="APP %(name)s %(message)s")
        call = observer.call("GET", "/tickets/{id}", "/tickets/1295")
        await call.attempt_started()
        await call.attempt_ended(status=200, request_id="req_9")
        call.ended(status=200)

    asyncio.run(main())
    """
)


def run_app(when: str, value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "INTERCOM_ASYNC_LOG"}
    if value is not None:
        env["INTERCOM_ASYNC_LOG"] = value
    return subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", APP, when],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )


LINE = "GET /tickets/{id} 200 request_id=req_9 attempt=1 elapsed="


def test_without_logging_set_up_the_line_goes_to_stderr() -> None:
    done = run_app("never", "info")
    [line] = done.stderr.splitlines()
    assert " INFO intercom_async: " + LINE in line
    assert done.stdout == ""
    assert run_app("never", None).stderr == ""  # and nothing at all when unset


@pytest.mark.parametrize("when", ["before", "after"])
def test_with_logging_set_up_the_line_goes_there_once(when: str) -> None:
    done = run_app(when, "info")
    [line] = done.stdout.splitlines()
    assert line.startswith("APP intercom_async " + LINE)
    assert done.stderr == ""
