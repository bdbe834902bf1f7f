"""The connection options of the command line (``Settings``) and the ``IntercomClient`` they
describe: the access token from ``--token-file`` or the environment, the region or base URL,
the API version, the timeout and the retry policy. A bad option is a ``UsageProblem`` whose
message never holds the token.
"""

from __future__ import annotations

import os

import attrs

from .._client import IntercomClient
from .._quota import QuotaSource
from .._retry import RetryPolicy
from .._settings import TOKEN_ENV
from .common import UsageProblem, why

__all__ = ["Settings", "make_client"]


@attrs.frozen
class Settings:
    """The connection options (``options.CONNECTION``): how to reach Intercom."""

    token_file: str | None = None
    region: str = "us"
    base_url: str | None = None
    api_version: str = "2.9"
    timeout: float = 30.0
    max_attempts: int = 5
    allow_insecure_http: bool = False
    verbose: bool = False
    redis_url: str | None = None  # "": none, whatever INTERCOM_REDIS_URL says
    proxy: str | None = None  # None: the proxy environment variables decide


def _read_token(path: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as stream:
            token = stream.readline().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"cannot read token file {path!r}: {why(exc)}") from None
    if not token:
        raise UsageProblem(f"token file {path!r} is empty")
    return token


def make_client(
    settings: Settings, *, concurrency: int = 1, quota: QuotaSource | None = None
) -> IntercomClient:
    """The ``IntercomClient`` the connection options describe, with ``quota`` (the
    ``RedisQuota`` of ``--redis-url``) if given; bad options are a ``UsageProblem``."""
    if settings.token_file is not None:
        token: str | None = _read_token(settings.token_file)
    elif os.environ.get(TOKEN_ENV, "").strip():
        token = None  # the client reads it
    else:
        raise UsageProblem(f"no Intercom access token: set {TOKEN_ENV} or pass --token-file")
    try:
        return IntercomClient(
            token,
            region=settings.region,
            base_url=settings.base_url,
            version=settings.api_version,
            timeout=settings.timeout,
            retry=RetryPolicy(max_attempts=settings.max_attempts),
            max_connections=max(100, concurrency),
            allow_insecure_http=settings.allow_insecure_http,
            quota=quota,
            proxy=settings.proxy,
        )
    except (ValueError, TypeError) as exc:  # the messages never hold the token (nor the
        # password of a --redis-url: redis-py's own parse errors do not quote the URL)
        message = str(exc).replace("allow_insecure_http=True", "--allow-insecure-http")
        raise UsageProblem(message) from None
