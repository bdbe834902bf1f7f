"""``--redis-url``: one rate-limit budget shared through Redis by every run.

``shared_quota(url)`` checks the URL and makes the ``RedisQuota`` the client gets; a URL that
will not do, or redis-py missing, is a ``UsageProblem``. ``check_credentials`` then asks Redis
once, before anything is fetched: credentials it refuses are a ``UsageProblem`` too. The URL
may hold a password: no message of the command line shows it, only ``shown(url)`` (scheme,
host, port and path: no user, password or query). redis-py is imported only once a run asks
for Redis.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import attrs

from .common import UsageProblem

if TYPE_CHECKING:
    from ..redis import RedisQuota

__all__ = ["REDIS_URL_ENV", "SharedQuotaOption", "check_credentials", "shared_quota", "shown"]

REDIS_URL_ENV = "INTERCOM_REDIS_URL"
SCHEMES = ("redis://", "rediss://", "unix://")
FORMS = "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], rediss://... or unix:///PATH"
ENCODE = "percent-encode any / ? # @ in the password"
INSTALL_HINT = "--redis-url needs redis-py: pip install 'intercom-async[redis]'"
CHECK_LIMIT = 2.0  # seconds the check may take; a Redis slower than that is an outage, later


@attrs.frozen
class SharedQuotaOption:
    """What ``--redis-url`` asked for: the quota, and its URL as the output may show it."""

    # Not in the repr: RedisQuota's hides a password in the URL's user part, not one given
    # as a query parameter (?password=...).
    quota: RedisQuota = attrs.field(repr=False)
    shown: str


def shown(url: str) -> str:
    """``url`` as it may be printed: scheme, host, port and path, never a user, a password or
    a query (a ``?password=`` works too). A URL that does not parse is a ``UsageProblem`` whose
    message holds none of it."""
    if not url.startswith(SCHEMES):
        raise UsageProblem(f"--redis-url must be a Redis URL: {FORMS}")
    unparsable = UsageProblem(f"--redis-url does not parse as a Redis URL: {FORMS} ({ENCODE})")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is no port
    except ValueError:
        raise unparsable from None
    if "@" in parts.path + parts.query + parts.fragment:  # a password with / ? or # in it
        raise unparsable
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}"


def shared_quota(url: str) -> SharedQuotaOption:
    """The ``RedisQuota`` of ``--redis-url URL``, its budget named after the token."""
    where = shown(url)
    try:
        from ..redis import RedisQuota
    except ImportError:
        raise UsageProblem(INSTALL_HINT) from None
    try:
        quota = RedisQuota(url)
    except ValueError:  # shown() let through what RedisQuota refuses: say so without the URL
        raise UsageProblem(f"--redis-url {where} will not do: {FORMS}") from None
    return SharedQuotaOption(quota, where)


def check_credentials(option: SharedQuotaOption) -> None:
    """Ask the Redis of ``option`` once, as the client will, before anything is fetched (its
    quota serves a client by now): credentials it refuses (``WRONGPASS``, ``NOAUTH``,
    ``NOPERM``) are a ``UsageProblem``. A Redis that does not answer is not: the run paces
    itself alone, and says so once, as it does when Redis goes away later."""
    from .._redis_store import credentials_refused

    try:
        asyncio.run(option.quota._check(max(option.quota._timeout, CHECK_LIMIT)))
    except Exception as exc:
        if not credentials_refused(exc):
            return  # unreachable, stalled, failing: an outage, which the run rides out
        what = " ".join(str(exc).split()) or type(exc).__name__  # (never the password)
        raise UsageProblem(
            f"Redis at --redis-url {option.shown} refused the credentials ({what}): check the "
            "user and password in the URL, and the user's ACL permissions"
        ) from None
