"""The retry policy on its own: what is retried, how long it waits, when it stops. No network."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate

import pytest

from intercom_async import (
    ApiError,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from intercom_async._protocol import MAX_SERVER_WAIT
from intercom_async._retry import RETRYABLE_STATUSES, is_retryable, retry_after_failure


def api_error(status: int, **headers: str) -> ApiError:
    cls = {404: NotFoundError, 429: RateLimitError}.get(status, ServerError)
    if status < 500 and status not in (404, 429):
        cls = ApiError
    return cls(status, headers={k.replace("_", "-"): v for k, v in headers.items()}, path="/t/1")


@pytest.mark.parametrize("attempts", [0, -1, True, 1.5, "3", None])
def test_max_attempts_must_be_a_positive_int(attempts: object) -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=attempts)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_backoff": -0.1},
        {"max_backoff": -1},
        {"max_delay": 0},
        {"max_delay": float("nan")},
        {"initial_backoff": float("nan")},
    ],
)
def test_waits_must_not_be_negative(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - attrs words these itself
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_the_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=3.0, jitter=False)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(("draw", "expected"), [("low", [0.25, 0.5, 1.5]), ("high", [0.5, 1, 3])])
def test_jitter_spreads_each_backoff_over_its_upper_half(
    monkeypatch: pytest.MonkeyPatch, draw: str, expected: list[float]
) -> None:
    def uniform(a: float, b: float) -> float:
        assert a == 0
        return a if draw == "low" else b

    monkeypatch.setattr("intercom_async._retry.random.uniform", uniform)
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=3.0)
    assert [policy.backoff(n) for n in (1, 2, 5)] == expected


def test_jitter_really_varies() -> None:
    policy = RetryPolicy(initial_backoff=1.0, max_backoff=1.0)
    waits = {policy.backoff(1) for _ in range(50)}
    assert len(waits) > 10
    assert all(0.5 <= wait <= 1.0 for wait in waits)


def test_no_wait_never_waits() -> None:
    policy = RetryPolicy.no_wait(max_attempts=7)
    assert policy == RetryPolicy(
        max_attempts=7, initial_backoff=0.0, max_backoff=0.0, jitter=True, wait=False
    )
    assert RetryPolicy.no_wait() == RetryPolicy.no_wait(max_attempts=5)
    assert policy.backoff(3) == 0.0
    assert policy.wait_after(api_error(429, Retry_After="30"), 1) == 0.0
    assert RetryPolicy(initial_backoff=5, wait=False).backoff(1) == 0.0
    assert RetryPolicy.never().max_attempts == 1


def test_what_the_server_asks_for_replaces_the_backoff() -> None:
    policy = RetryPolicy(initial_backoff=0.5, jitter=False)
    reset = str(int(time.time()) + 10)
    assert policy.wait_after(api_error(429, Retry_After="7"), 1) == 7.0
    assert 8.0 <= policy.wait_after(api_error(429, X_RateLimit_Reset=reset), 1) <= 10.0
    assert policy.wait_after(api_error(503, Retry_After="4"), 1) == 4.0
    # A reset says when to come back only for a 429; a 503 backs off as usual.
    assert policy.wait_after(api_error(503, X_RateLimit_Reset=reset), 2) == 1.0
    # A wait of 0, or a reset already past, backs off as usual.
    assert policy.wait_after(api_error(429, Retry_After="0"), 1) == 0.5
    assert policy.wait_after(api_error(429, X_RateLimit_Reset="1000"), 3) == 2.0
    assert policy.wait_after(TransportError("reset"), 2) == 1.0


def test_what_the_server_asks_for_is_capped() -> None:
    policy = RetryPolicy(initial_backoff=0.5, jitter=False)
    a_day = str(int(time.time()) + 86_400)
    assert policy.wait_after(api_error(429, Retry_After="31536000"), 1) == MAX_SERVER_WAIT
    assert policy.wait_after(api_error(503, Retry_After="1e15"), 1) == MAX_SERVER_WAIT
    assert policy.wait_after(api_error(429, X_RateLimit_Reset=a_day), 1) == MAX_SERVER_WAIT


def test_a_429_that_says_nothing_of_how_long_backs_off_as_usual() -> None:
    policy = RetryPolicy(initial_backoff=0.25, jitter=False)
    assert policy.wait_after(api_error(429), 1) == 0.25
    assert policy.wait_after(api_error(429, X_RateLimit_Remaining="0"), 2) == 0.5


def test_a_retry_after_date_is_read_against_our_clock_now() -> None:
    policy = RetryPolicy(initial_backoff=0.25, jitter=False)
    in_a_minute = formatdate(time.time() + 60.0, usegmt=True)
    assert 58.0 <= policy.wait_after(api_error(503, Retry_After=in_a_minute), 1) <= 60.0


def test_a_reset_is_read_on_the_server_s_clock_by_its_date() -> None:
    policy = RetryPolicy(initial_backoff=0.25, jitter=False)
    server_now = time.time() + 100.0  # its clock is 100 s ahead of ours
    error = api_error(
        429, Date=formatdate(server_now, usegmt=True), X_RateLimit_Reset=str(int(server_now) + 3)
    )
    assert 1.0 <= policy.wait_after(error, 1) <= 3.0


@pytest.mark.parametrize("status", sorted(RETRYABLE_STATUSES))
def test_retryable_statuses(status: int) -> None:
    assert is_retryable(api_error(status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501, 505])
def test_other_statuses_are_not_retried(status: int) -> None:
    assert not is_retryable(api_error(status))


def test_transport_errors_are_retried_unless_they_would_fail_the_same_way() -> None:
    assert is_retryable(TransportError("connection reset"))
    assert not is_retryable(TransportError("certificate verify failed", retryable=False))
    assert not is_retryable(ResponseDecodeError("not a ticket", status=200))
    assert not is_retryable(ValueError("a bug"))


def attempts_of(*outcomes: object) -> tuple[Callable[[], Awaitable[object]], list[int]]:
    """An attempt function that raises or returns ``outcomes`` in turn, and its call log."""
    calls: list[int] = []

    async def attempt() -> object:
        calls.append(len(calls) + 1)
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return attempt, calls


async def test_retries_go_on_until_success() -> None:
    second = api_error(502)
    attempt, calls = attempts_of(second, "ticket")
    first = api_error(500)
    retried: list[tuple[object, float]] = []
    result: object = await retry_after_failure(
        RetryPolicy.no_wait(),
        first,
        time.monotonic(),
        attempt,
        what="GET /t/1",
        on_retry=lambda error, wait: retried.append((error, wait)),
    )
    assert result == "ticket"
    assert calls == [1, 2]
    assert retried == [(first, 0.0), (second, 0.0)]


async def test_an_error_that_is_not_retryable_stops_the_retries() -> None:
    attempt, calls = attempts_of(NotFoundError(404), "never")
    with pytest.raises(NotFoundError):
        await retry_after_failure(
            RetryPolicy.no_wait(),
            api_error(500),
            time.monotonic(),
            attempt,
            what="GET /t/1",
        )
    assert calls == [1]  # a 500, then a 404: two attempts in all


async def test_a_first_error_that_is_not_retryable_is_raised_as_it_is() -> None:
    attempt, calls = attempts_of("never")
    first = NotFoundError(404)
    with pytest.raises(NotFoundError) as info:
        await retry_after_failure(
            RetryPolicy(),
            first,
            time.monotonic(),
            attempt,
            what="GET /t/1",
        )
    assert info.value is first
    assert calls == []


async def test_attempts_are_bounded() -> None:
    attempt, calls = attempts_of(*[api_error(503)] * 10)
    with pytest.raises(ServerError):
        await retry_after_failure(
            RetryPolicy.no_wait(max_attempts=3),
            api_error(503),
            time.monotonic(),
            attempt,
            what="GET /t/1",
        )
    assert calls == [1, 2]  # three attempts in all, the first included
    attempt, calls = attempts_of("never")
    with pytest.raises(ServerError):
        await retry_after_failure(
            RetryPolicy.never(),
            api_error(503),
            time.monotonic(),
            attempt,
            what="x",
        )
    assert calls == []


@pytest.mark.parametrize("max_delay", [6.5, 7.0])  # (ending exactly at max_delay is past it)
async def test_time_is_bounded_before_a_wait_would_pass_it(
    monkeypatch: pytest.MonkeyPatch, max_delay: float
) -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr("intercom_async._retry.time.monotonic", lambda: now[0])
    attempt, calls = attempts_of(*[api_error(503)] * 10)
    policy = RetryPolicy(initial_backoff=1.0, max_backoff=100.0, max_delay=max_delay, jitter=False)
    with pytest.raises(ServerError):
        await retry_after_failure(policy, api_error(503), 100.0, attempt, what="x", sleep=sleep)
    assert slept == [1.0, 2.0]  # 1 + 2 = 3 s; the next wait, 4 s more, would end past it
    assert calls == [1, 2]


async def test_each_retry_is_logged_once_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    attempt, _ = attempts_of(TransportError("Connection reset by peer\n  (again)"), "ok")
    with caplog.at_level(logging.INFO, logger="intercom_async"):
        await retry_after_failure(
            RetryPolicy.no_wait(max_attempts=4),
            api_error(502),
            time.monotonic(),
            attempt,
            what="GET /tickets/9",
        )
    assert [r.getMessage() for r in caplog.records] == [
        "GET /tickets/9 failed (HTTP 502), attempt 1 of 4; retrying in 0.00s",
        "GET /tickets/9 failed (Connection reset by peer (again)), attempt 2 of 4; "
        "retrying in 0.00s",
    ]
    assert {r.levelno for r in caplog.records} == {logging.WARNING}
