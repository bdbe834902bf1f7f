"""``intercom-async fake``: a ``FakeIntercom`` served on a host and port of your choosing, for
services written in other languages and for trying the command line by hand.

It serves the fake's ``app`` (its public way to be run by someone else) with aiohttp's own
runner, since the fake itself listens only on a free port of 127.0.0.1. Unless ``--token`` names
the one token to accept, any non-empty Bearer token is accepted: a middleware puts the fake's
own token in its place. The URL goes to stdout (flushed, so that a script can read it at once)
and the run lasts until SIGINT (Ctrl-C) or SIGTERM, which end it cleanly, with status 0.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import attrs

from .common import EXIT_OK, UsageProblem, say, why

if TYPE_CHECKING:
    from aiohttp import web
    from aiohttp.typedefs import Middleware

    from ..testing import FakeIntercom

__all__ = ["RateLimitOption", "parse_rate_limit", "run_fake"]

INTERCOM_WINDOW = 10.0  # seconds: the window of Intercom's rate limit, and the fake's default
# How long the shutdown lets answers in progress finish before cancelling them.
_SHUTDOWN_TIMEOUT = 1.0
_FORGET = 10.0  # seconds between two clearings of the fake's record of requests
_Handler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]


@attrs.frozen
class RateLimitOption:
    """``--rate-limit N/SECONDS``: ``requests`` per window of ``seconds``."""

    requests: int
    seconds: float


def parse_rate_limit(text: str) -> RateLimitOption:
    """``"1000/10"`` as ``RateLimitOption(1000, 10.0)``; anything else is a ``ValueError``."""
    count, slash, seconds = text.partition("/")
    problem = ValueError(f"{text!r} is not N/SECONDS (such as 1000/10)")
    if not slash:
        raise problem
    try:
        limit = RateLimitOption(int(count), float(seconds))
    except ValueError:
        raise problem from None
    if limit.requests < 1:
        raise ValueError(f"{text!r}: N must be 1 or more")
    if not (math.isfinite(limit.seconds) and limit.seconds > 0):
        raise ValueError(f"{text!r}: SECONDS must be a positive number")
    return limit


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@attrs.define
class _Door:
    """What the middleware does for each request: count it, and, unless ``--token`` was given,
    hand the fake its own token in place of any non-empty Bearer token."""

    accepted: str | None  # the fake's token, to put in place of any other; None: --token
    count: int = 0

    def middleware(self) -> Middleware:
        from aiohttp import web

        @web.middleware
        async def door(request: web.Request, handler: _Handler) -> web.StreamResponse:
            self.count += 1
            if self.accepted is not None:
                scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
                if scheme.lower() == "bearer" and given.strip():
                    headers = request.headers.copy()
                    headers["Authorization"] = f"Bearer {self.accepted}"
                    request = request.clone(headers=headers)
            return await handler(request)

        return door


async def _forget(fake: FakeIntercom) -> None:
    """Forget the requests the fake records every ``_FORGET`` seconds: a server that runs for
    days must not keep them all."""
    while True:
        await asyncio.sleep(_FORGET)
        fake.clear_requests()


async def _stopped() -> None:
    """Return on SIGINT or SIGTERM (where signals cannot be caught so, Ctrl-C interrupts)."""
    loop, stop = asyncio.get_running_loop(), asyncio.Event()
    caught = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            continue
        caught.append(signum)
    try:
        await stop.wait()
    finally:
        for signum in caught:
            loop.remove_signal_handler(signum)


async def _serve(
    *,
    host: str,
    port: int,
    tickets: int,
    seed: int,
    rate_limit: RateLimitOption | None,
    fault_rate: float,
    token: str | None,
) -> None:
    from aiohttp import web

    from ..testing import FakeIntercom

    accepted = token if token is not None else secrets.token_urlsafe(16)
    try:
        fake = FakeIntercom(
            token=accepted,
            tickets=tickets,
            seed=seed,
            rate_limit=rate_limit.requests if rate_limit is not None else None,
            window=rate_limit.seconds if rate_limit is not None else INTERCOM_WINDOW,
        )
    except ValueError as exc:  # the message never quotes the token
        raise UsageProblem(f"--token: {exc}") from None
    if fault_rate:
        fake.random_faults(fault_rate, seed=seed)
    door = _Door(accepted if token is None else None)
    fake.app.middlewares.append(door.middleware())
    runner = web.AppRunner(
        fake.app, access_log=None, handler_cancellation=True, shutdown_timeout=_SHUTDOWN_TIMEOUT
    )
    await runner.setup()
    forgetting = asyncio.create_task(_forget(fake))
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise UsageProblem(f"cannot listen on {_url(host, port)}: {why(exc)}") from None
        url = _url(host, runner.addresses[0][1])
        print(url, flush=True)
        limit = f"{rate_limit.requests} per {rate_limit.seconds:g}s" if rate_limit else "none"
        served = f"tickets 1 to {tickets}" if tickets else "no tickets"
        accepts = "the --token given" if token is not None else "any token"
        say(
            f"fake: a fake Intercom with {served}, rate limit {limit}, "
            f"{fault_rate:.0%} of requests failing, {accepts} accepted; Ctrl-C to stop"
        )
        await _stopped()
    finally:
        forgetting.cancel()
        await runner.cleanup()
    say(f"fake: stopped after {door.count} requests")


def run_fake(
    *,
    host: str,
    port: int,
    tickets: int,
    seed: int,
    rate_limit: RateLimitOption | None,
    fault_rate: float,
    token: str | None,
) -> int:
    """``intercom-async fake``: serve a fake Intercom until SIGINT or SIGTERM; status 0."""
    try:
        asyncio.run(
            _serve(
                host=host,
                port=port,
                tickets=tickets,
                seed=seed,
                rate_limit=rate_limit,
                fault_rate=fault_rate,
                token=token,
            )
        )
    except KeyboardInterrupt:  # Ctrl-C before the handlers were set, or where they cannot be
        say("fake: stopped")
    return EXIT_OK
