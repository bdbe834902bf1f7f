"""The sans-I/O core: build a request for Intercom, decipher its answer.

Nothing here touches the network, so all of it is tested with plain data. The client
(``intercom_async._client``) only moves bytes between these functions and aiohttp.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

from attrs import frozen

from ._convert import StructureError, error_path, structure_error_list, structure_ticket
from ._errors import ApiError, InvalidTicketIdError, ResponseDecodeError, api_error_class
from ._models import Ticket
from ._version import __version__

__all__ = [
    "MAX_SERVER_WAIT",
    "REGIONS",
    "RateLimit",
    "build_headers",
    "decipher_ticket",
    "http_date",
    "resolve_base_url",
    "retry_after",
    "retry_after_seconds",
    "ticket_path",
    "validate_version",
]

REGIONS: Mapping[str, str] = {
    "us": "https://api.intercom.io",
    "eu": "https://api.eu.intercom.io",
    "au": "https://api.au.intercom.io",
}
# The versions the 2.9 description enumerates; any newer "N.M" is accepted too.
KNOWN_VERSIONS = frozenset(
    ["1.0", "1.1", "1.2", "1.3", "1.4"] + [f"2.{minor}" for minor in range(10)]
)
_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
# The versions with a name rather than a number.
_NAMED_VERSIONS = frozenset(["Unstable", "Preview"])
USER_AGENT = f"intercom-async/{__version__}"


def validate_version(version: str) -> str:
    """``version`` if it is an Intercom API version this client can ask for, else ``ValueError``.

    Accepted: the values the 2.9 description enumerates (1.0 to 1.4, 2.0 to 2.9), any newer
    ``N.M`` (2.10, 2.14, 3.0...), ``"Unstable"``, and ``"Preview"`` (in the 2.11 description's
    enum), spelt as Intercom spells them.
    """
    if not isinstance(version, str):
        raise ValueError(f"version must be a string such as '2.9', not {type(version).__name__}")
    if version in KNOWN_VERSIONS or version in _NAMED_VERSIONS:
        return version
    match = _VERSION.fullmatch(version)
    if match and (int(match[1]), int(match[2])) >= (2, 10):
        return version
    raise ValueError(
        f"unknown Intercom API version {version!r}: use one of 1.0-1.4, 2.0-2.9, a newer "
        "'N.M' such as '2.11', 'Preview' or 'Unstable'"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback  # urlsplit's hostname has no brackets
    except ValueError:
        return False


def resolve_base_url(
    region: str, base_url: str | None, *, allow_insecure_http: bool = False
) -> str:
    """The API root to send requests to, without a trailing slash.

    ``base_url`` wins over ``region``, which must be a known region all the same. It must be
    an absolute ``http(s)`` URL with a host, a valid port if any, and no credentials, query,
    fragment, spaces or control characters. Plain ``http://`` is refused for any host but a
    loopback one (the token would cross the network in clear) unless ``allow_insecure_http``
    is set.
    """
    if region not in REGIONS:
        raise ValueError(f"unknown region {region!r}: use one of {', '.join(REGIONS)}")
    if base_url is None:
        return REGIONS[region]
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str, not {type(base_url).__name__}")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an absolute http(s) URL, not {base_url!r}")
    if any(char.isspace() or not char.isprintable() for char in base_url):
        raise ValueError(f"base_url must not contain spaces or control characters: {base_url!r}")
    if "@" in parts.netloc:
        raise ValueError("base_url must not carry credentials; pass the token instead")
    if "?" in base_url or "#" in base_url:
        raise ValueError(f"base_url must not have a query or fragment: {base_url!r}")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(f"base_url has an invalid port (use 1 to 65535): {base_url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname) and not allow_insecure_http:
        raise ValueError(
            f"refusing to send the access token over plain http to {parts.hostname}: use https, "
            "or pass allow_insecure_http=True if you really mean it"
        )
    return base_url.rstrip("/")


class _Headers(dict[str, str]):
    """Request headers whose repr hides the access token."""

    def __repr__(self) -> str:
        shown = {k: ("Bearer <redacted>" if k == "Authorization" else v) for k, v in self.items()}
        return repr(shown)


def build_headers(token: str, version: str) -> dict[str, str]:
    """The headers every request carries (their repr shows no token)."""
    return _Headers(
        {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Intercom-Version": version,
            "User-Agent": USER_AGENT,
        }
    )


# The longest id sent, in characters (of the id, before percent-encoding): Intercom's ids are a
# few digits; a longer one is a mistake (a whole line, a file read as one id), refused unsent.
MAX_TICKET_ID_LENGTH = 255
_INT_IDS = range(-(10 ** (MAX_TICKET_ID_LENGTH - 1)) + 1, 10**MAX_TICKET_ID_LENGTH)


def ticket_path(ticket_id: str | int) -> str:
    """``/tickets/{id}`` with the id percent-encoded as exactly one path segment.

    ``"../admins"`` becomes ``/tickets/..%2Fadmins``; an id that is only dots is encoded too, so
    no id can climb out of ``/tickets/``. An id longer than ``MAX_TICKET_ID_LENGTH`` characters
    is refused, and quoted cut short.
    """
    if isinstance(ticket_id, bool) or not isinstance(ticket_id, (str, int)):
        raise InvalidTicketIdError(
            f"ticket id must be a str or an int, not {type(ticket_id).__name__}"
        )
    if isinstance(ticket_id, int) and ticket_id not in _INT_IDS:  # str() of it may even fail
        raise InvalidTicketIdError(
            f"ticket id is an int of more than {MAX_TICKET_ID_LENGTH} characters"
        )
    text = str(ticket_id)
    if len(text) > MAX_TICKET_ID_LENGTH:
        raise InvalidTicketIdError(
            f"ticket id is {len(text)} characters long, past the {MAX_TICKET_ID_LENGTH} an id "
            f"may have: {text[:40]!r}..."
        )
    if not text.strip():
        raise InvalidTicketIdError("ticket id must be a non-empty string")
    segment = quote(text, safe="")
    if segment in (".", ".."):
        segment = segment.replace(".", "%2E")
    return f"/tickets/{segment}"


# The longest wait a server's answer may impose (Retry-After, a 429's X-RateLimit-Reset), in
# seconds. Intercom's windows are about 10 seconds long; a longer ask is a hostile, buggy or stale
# answer, and it must not hold a client (or, through Redis, every process of an app) for longer.
MAX_SERVER_WAIT = 300.0

# Headers outside these bounds are not believed: a count must fit in an int a JSON number can
# hold exactly, a reset must be a time a datetime can show (before the year 10000).
_MAX_COUNT = 2**53
_MAX_TIMESTAMP = 253_402_300_799.0


@frozen
class RateLimit:
    """The app's rate-limit window as Intercom last reported it.

    Each attribute is ``None`` when its header was missing or not a sensible number (a count
    that is negative or not finite, a reset that is no time at all).

    Attributes:
        limit: requests allowed per window (``X-RateLimit-Limit``).
        remaining: requests left in the current window (``X-RateLimit-Remaining``).
        reset: Unix time at which the window resets (``X-RateLimit-Reset``).
    """

    limit: int | None
    remaining: int | None
    reset: float | None

    @property
    def reset_at(self) -> datetime | None:
        """``reset`` as a timezone-aware UTC ``datetime``."""
        return None if self.reset is None else datetime.fromtimestamp(self.reset, UTC)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit | None:
        """The rate limit the headers report, or ``None`` when they report none."""
        limit = _count(headers.get("X-RateLimit-Limit"))
        remaining = _count(headers.get("X-RateLimit-Remaining"))
        reset = _number(headers.get("X-RateLimit-Reset"))
        if reset is not None and not 0 <= reset <= _MAX_TIMESTAMP:
            reset = None
        if limit is None and remaining is None and reset is None:
            return None
        return cls(limit=limit, remaining=remaining, reset=reset)


def _number(value: str | None) -> float | None:
    """A header's value as a finite float, or ``None``."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _count(value: str | None) -> int | None:
    """A header's value as a count of requests (an int from 0 to 2**53), or ``None``."""
    number = _number(value)
    if number is None or not 0 <= number <= _MAX_COUNT:
        return None
    return int(number)


def http_date(value: str | None) -> float | None:
    """An HTTP-date header (``Date``, ``Retry-After``) as a Unix time, or ``None``."""
    if value is None:
        return None
    return _http_date(value)


# Every answer's ``Date`` is read (the server's clock), and it changes once a second: parsing
# it is a quarter of what the pacing costs per answer, a cache hit next to nothing.
@functools.lru_cache(maxsize=16)
def _http_date(value: str) -> float | None:
    try:
        moment = parsedate_to_datetime(value)
        if moment.tzinfo is None:  # "-0000": a time in UTC with no zone said
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


# Past this, the server's clock (its Date header) is taken to differ from ours.
SKEW_TOLERANCE = 2.0


def clock_skew(headers: Mapping[str, str], now: float) -> float:
    """The server's clock minus ours, from its ``Date`` header; 0 when within the tolerance.

    ``Date`` has whole seconds, so the server's time is taken as the middle of that second.
    """
    date = http_date(headers.get("Date"))
    if date is None:
        return 0.0
    skew = date + 0.5 - now
    return skew if abs(skew) > SKEW_TOLERANCE else 0.0


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """The seconds ``Retry-After`` asks to wait (0 to ``MAX_SERVER_WAIT``), or ``None`` without
    a usable one.

    It is a number of seconds or an HTTP-date; a date is read on the server's clock (by its
    ``Date`` header) and turned into a wait on ours, ``now`` being our current Unix time.
    """
    value = headers.get("Retry-After")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is None:
        date = http_date(value)
        if date is None:
            return None
        seconds = date - clock_skew(headers, now) - now
    return _capped(seconds)


def _capped(seconds: float) -> float:
    """A wait a server asked for, from 0 to ``MAX_SERVER_WAIT``."""
    return min(max(0.0, seconds), MAX_SERVER_WAIT)


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """How long the server asked us to wait, from ``Retry-After`` or ``X-RateLimit-Reset``.

    ``now`` is our current Unix time; a server clock that differs from ours (by its ``Date``
    header) is allowed for. ``None`` when neither header says anything usable; never more than
    ``MAX_SERVER_WAIT``.
    """
    asked = retry_after(headers, now)
    if asked is not None:
        return asked
    limits = RateLimit.from_headers(headers)
    if limits is None or limits.reset is None:
        return None
    return _capped(limits.reset - clock_skew(headers, now) - now)


@functools.lru_cache(maxsize=64)
def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # nothing claimed: let the body speak for itself
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"number {text[:20]} is too large for a float")
    return number


def _loads(body: bytes) -> Any:
    """Strict JSON: no ``NaN``/``Infinity``, no number that overflows to an infinite float."""
    return json.loads(body, parse_constant=_not_json, parse_float=_finite)


def decipher_ticket(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    reason: str = "",
    method: str = "GET",
    path: str = "",
) -> Ticket:
    """The ``Ticket`` a ``GET /tickets/{id}`` answer carries, or the error it amounts to.

    Raises:
        ApiError: (a subclass by status) for any status but 2xx.
        ResponseDecodeError: for a 2xx whose body is not JSON or not a ticket.
    """
    if not 200 <= status < 300:
        raise api_error(status, headers, body, reason=reason, method=method, path=path)
    request_id = headers.get("X-Request-Id")

    def failure(message: str, json_path: str = "$") -> ResponseDecodeError:
        return ResponseDecodeError(
            message, status=status, json_path=json_path, request_id=request_id, headers=headers
        )

    if not _is_json(headers.get("Content-Type")):
        raise failure(f"expected JSON, got Content-Type {headers.get('Content-Type')!r}")
    try:
        data = _loads(body)
    except RecursionError:
        raise failure("JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int too long
        raise failure(f"not valid JSON ({exc})") from None
    try:
        return structure_ticket(data)
    except StructureError as exc:
        json_path, message = error_path(exc)
        raise failure(message, json_path) from None
    except RecursionError:
        raise failure("JSON nested too deeply") from None


def api_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    reason: str = "",
    method: str = "GET",
    path: str = "",
) -> ApiError:
    """The ``ApiError`` for a non-2xx answer, with Intercom's ``error.list`` when there is one."""
    data: Any = None
    if body and _is_json(headers.get("Content-Type")):
        try:
            data = _loads(body)
        except (ValueError, RecursionError):
            data = None
    request_id, errors = structure_error_list(data)
    return api_error_class(status)(
        status,
        reason=reason,
        request_id=request_id or headers.get("X-Request-Id"),
        errors=errors,
        headers=headers,
        method=method,
        path=path,
    )
