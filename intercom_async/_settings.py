"""The settings of an ``IntercomClient``, checked: the access token (wrapped, so that no repr
nor a traceback's locals shows it), the base URL from ``INTERCOM_BASE_URL``, the retry policy
and the attempt timeout. Each bad value is a ``ValueError`` or ``TypeError`` that says what is
wrong, and never holds the token."""

from __future__ import annotations

import hashlib
import math
import os

import aiohttp

from ._protocol import resolve_base_url
from ._retry import RetryPolicy

__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "TOKEN_ENV",
    "Token",
    "choose_base_url",
    "client_timeout",
    "positive_finite",
    "positive_int",
    "retry_policy",
]

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
TOKEN_ENV = "INTERCOM_ACCESS_TOKEN"  # noqa: S105 - a variable name, not a secret
BASE_URL_ENV = "INTERCOM_BASE_URL"


class Token:
    """The access token, wrapped so that no repr (nor a traceback's locals) shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: object) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "<access token, redacted>"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("the access token is not picklable")

    def digest(self) -> str:
        """A keyed hash of the token: a name for what its clients share, that reveals nothing."""
        key = b"intercom-async shared budget"
        return hashlib.blake2b(self.checked().encode(), key=key, digest_size=16).hexdigest()

    def checked(self) -> str:
        """The token, if it is one a request can carry; else a ``ValueError`` that hides it."""
        if self._value is None:
            raise ValueError(f"no Intercom access token: pass token=... or set {TOKEN_ENV}")
        if not isinstance(self._value, str):
            raise TypeError(f"token must be a str, not {type(self._value).__name__}")
        if not self._value.strip():
            raise ValueError(f"no Intercom access token: the token given is blank (or {TOKEN_ENV})")
        if "\r" in self._value or "\n" in self._value or "\x00" in self._value:
            raise ValueError("the access token contains a line break or NUL character")
        return self._value.strip()  # spaces around a pasted token are not part of it


def choose_base_url(region: str, base_url: str | None, *, allow_insecure_http: bool) -> str:
    """``resolve_base_url``, with ``base_url`` from ``INTERCOM_BASE_URL`` when not given; a bad
    value there is a ``ValueError`` that names the variable."""
    from_env = os.environ.get(BASE_URL_ENV, "").strip() if base_url is None else ""
    if not from_env:
        return resolve_base_url(region, base_url, allow_insecure_http=allow_insecure_http)
    resolve_base_url(region, None)  # a bad region, in its own words
    try:
        return resolve_base_url(region, from_env, allow_insecure_http=allow_insecure_http)
    except ValueError as exc:
        raise ValueError(f"{BASE_URL_ENV}: {exc}") from None


def positive_int(value: object, name: str) -> int:
    """``value``, if it is a positive int; else a ``ValueError`` naming ``name``."""
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int")
    return value


def retry_policy(retry: object) -> RetryPolicy:
    if not isinstance(retry, RetryPolicy):
        raise TypeError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
    return retry


def client_timeout(timeout: object) -> aiohttp.ClientTimeout:
    """``timeout`` as an ``aiohttp.ClientTimeout``, or a ``ValueError`` that says what is wrong."""
    if isinstance(timeout, aiohttp.ClientTimeout):
        for name in ("total", "connect", "sock_read", "sock_connect"):
            value = getattr(timeout, name)
            if value is not None and not positive_finite(value):
                raise ValueError(
                    f"timeout.{name} must be None or a positive finite number of seconds, "
                    f"not {value!r}"
                )
        return timeout
    if not positive_finite(timeout):
        raise ValueError(f"timeout must be a positive finite number of seconds, not {timeout!r}")
    assert isinstance(timeout, (int, float))
    return aiohttp.ClientTimeout(total=float(timeout))


def positive_finite(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value > 0
        and math.isfinite(value)
    )
