"""When to try a request again, and how long to wait first. tenacity stays in here.

``RetryPolicy`` is the public, immutable description; ``retry_after_failure`` carries an
operation on under it once its first attempt failed. The first attempt runs bare in the caller,
so a request that succeeds pays nothing for retries; only after a retryable failure does
tenacity take over.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from attrs import field, frozen, validators
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
)
from tenacity.stop import stop_base

from ._errors import ApiError, IntercomError, TransportError, one_line
from ._limits import limits_of

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "is_retryable", "retry_after_failure"]

T = TypeVar("T")
logger = logging.getLogger("intercom_async")

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def _positive_int(_: object, attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_attempts must be an int >= 1, not {value!r}")


@frozen
class RetryPolicy:
    """How a request is retried: exponential backoff with jitter, bounded twice.

    A request is tried at most ``max_attempts`` times, and no retry starts once ``max_delay``
    seconds have passed since the first attempt (nor when its wait would end past that).

    Retried: connection errors, timeouts and cut bodies (``TransportError``), and the statuses
    408, 429, 500, 502, 503 and 504. On 429 (and on any retried answer carrying
    ``Retry-After``) the wait is the one the server asked for, ``Retry-After`` or else
    ``X-RateLimit-Reset`` (300 seconds at most, whatever it asked), in place of the backoff.
    Nothing else is retried.

    Attributes:
        max_attempts: attempts in all, the first included (1 turns retries off).
        initial_backoff: wait in seconds before the first retry; doubled each retry.
        max_backoff: the cap on one backoff wait.
        max_delay: the cap in seconds on the time from the first attempt to the last retry.
        jitter: spread each backoff over its upper half at random, so that many clients
            failing together do not retry together.
        wait: ``False`` makes every wait zero, server-requested ones included: for tests.
    """

    max_attempts: int = field(default=5, validator=_positive_int)
    initial_backoff: float = field(default=0.5, validator=validators.ge(0))
    max_backoff: float = field(default=20.0, validator=validators.ge(0))
    max_delay: float = field(default=60.0, validator=validators.gt(0))
    jitter: bool = True
    wait: bool = True

    @classmethod
    def no_wait(cls, max_attempts: int = 5) -> RetryPolicy:
        """A policy that retries as usual but never sleeps: for your tests."""
        return cls(max_attempts=max_attempts, initial_backoff=0.0, max_backoff=0.0, wait=False)

    @classmethod
    def never(cls) -> RetryPolicy:
        """A policy that tries each request once."""
        return cls(max_attempts=1)

    def backoff(self, retry_number: int) -> float:
        """The backoff before retry number ``retry_number`` (1 for the first retry)."""
        if not self.wait:
            return 0.0
        ceiling = min(self.max_backoff, self.initial_backoff * 2.0 ** (retry_number - 1))
        if self.jitter:
            return ceiling / 2 + random.uniform(0, ceiling / 2)
        return ceiling

    def wait_after(self, error: BaseException, retry_number: int) -> float:
        """Seconds to wait after ``error`` before retry number ``retry_number``."""
        if not self.wait:
            return 0.0
        if isinstance(error, ApiError):
            limits = limits_of(error, time.time())
            asked = limits.retry_after  # any retried answer may say so
            if asked is None and limits.status == 429:  # or X-RateLimit-Reset, by the 429 rule
                now = time.time()
                server_now = now + limits.skew(now)
                hold = limits.hold(server_now)
                asked = hold.wait(server_now) if hold.said else None
            if asked:
                return asked  # (a wait of 0, a reset already past, backs off as usual)
        return self.backoff(retry_number)


def is_retryable(error: BaseException) -> bool:
    """Whether the policy retries after ``error``."""
    if isinstance(error, TransportError):
        return error.retryable
    return isinstance(error, ApiError) and error.status in RETRYABLE_STATUSES


def _reason(error: ApiError | TransportError) -> str:
    if isinstance(error, ApiError):
        return f"HTTP {error.status}"
    return one_line(str(error.args[0]))


class _PastDeadline(stop_base):
    """Stop when the next attempt would start ``max_delay`` or more after the first began."""

    def __init__(self, started: float, max_delay: float) -> None:
        self.started = started
        self.max_delay = max_delay

    def __call__(self, retry_state: RetryCallState) -> bool:
        elapsed = time.monotonic() - self.started
        return elapsed + retry_state.upcoming_sleep >= self.max_delay


async def retry_after_failure(
    policy: RetryPolicy,
    first_error: IntercomError,
    started: float,
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    on_retry: Callable[[IntercomError, float], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Retry ``attempt()`` after its first try, begun at ``started``, failed with ``first_error``.

    The caller runs the first attempt itself, so a request that succeeds pays nothing for
    retries. This runs the rest under ``policy`` until one succeeds, an error is not retryable,
    or the policy is spent; the last error is raised as it was. ``what`` names the operation in
    log lines (``"GET /tickets/1295"``); ``on_retry`` hears of each retry, with its wait;
    ``sleep`` waits between attempts.
    """
    first: list[IntercomError] = [first_error]  # the first attempt's outcome, to hand over

    async def attempt_after_first() -> T:
        if first:  # the first attempt already ran: hand tenacity its outcome
            raise first.pop()
        return await attempt()

    def wait(state: RetryCallState) -> float:
        assert state.outcome is not None
        error = state.outcome.exception()
        assert error is not None
        return policy.wait_after(error, state.attempt_number)

    def before_sleep(state: RetryCallState) -> None:
        assert state.outcome is not None
        error = state.outcome.exception()
        assert isinstance(error, (ApiError, TransportError))
        logger.warning(
            "%s failed (%s), attempt %d of %d; retrying in %.2fs",
            what,
            _reason(error),
            state.attempt_number,
            policy.max_attempts,
            state.upcoming_sleep,
        )
        if on_retry is not None:
            on_retry(error, state.upcoming_sleep)

    retrying = AsyncRetrying(
        stop=stop_any(
            stop_after_attempt(policy.max_attempts), _PastDeadline(started, policy.max_delay)
        ),
        wait=wait,
        retry=retry_if_exception(is_retryable),
        before_sleep=before_sleep,
        reraise=True,
        sleep=sleep,
    )
    return await retrying(attempt_after_first)
