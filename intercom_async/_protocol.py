"""The sans-I/O core: build a request for Intercom, decipher its answer.

Nothing here touches the network, so all of it is tested with plain data. The request path
(``intercom_async._transport``) only moves bytes between these functions and aiohttp.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import re
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from ._convert import TYPE_NAMES, StructureError, error_path, structure, structure_error_list
from ._errors import ApiError, InvalidTicketIdError, ResponseDecodeError, api_error_class
from ._limits import MAX_SERVER_WAIT, LimitHeaders, RateLimit
from ._models import Ticket
from ._version import __version__

T = TypeVar("T")

__all__ = [
    "MAX_SERVER_WAIT",
    "REGIONS",
    "RateLimit",
    "Response",
    "add_headers",
    "api_error",
    "build_headers",
    "decipher_ticket",
    "decode",
    "is_loopback_url",
    "json_body",
    "resolve_base_url",
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


def is_loopback_url(url: str) -> bool:
    """Whether ``url``'s host is a loopback one (``localhost``, ``127.0.0.1``, ``::1``)."""
    return _is_loopback(urlsplit(url).hostname or "")


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


def build_headers(
    token: str,
    version: str,
    *,
    extra: Mapping[str, str] | None = None,
    user_agent: str = USER_AGENT,
) -> dict[str, str]:
    """The headers every request carries (their repr shows no token): ours, with ``extra``
    (the application's, checked by ``_headers.check_headers``) added; an ``extra``
    ``User-Agent`` or ``Accept`` replaces ours."""
    headers = _Headers(
        {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Intercom-Version": version,
            "User-Agent": user_agent,
        }
    )
    return add_headers(headers, extra or {})


def add_headers(headers: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` (its repr hiding the token) with ``extra`` set over it, names
    compared without case."""
    merged = _Headers(headers)
    for name, value in extra.items():
        for ours in [key for key in merged if key.lower() == name.lower()]:
            del merged[ours]
        merged[name] = value
    return merged


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


class Response:
    """One answer as the request path read it: status, headers, the (capped) body, and its
    rate-limit headers parsed once (``limits``); with the method and path that asked for it."""

    __slots__ = ("body", "headers", "limits", "method", "path", "reason", "status")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        reason: str = "",
        method: str = "GET",
        path: str = "",
        limits: LimitHeaders | None = None,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.reason = reason
        self.method = method
        self.path = path
        self.limits = limits

    def __repr__(self) -> str:
        return f"<Response {self.status} to {self.method} {self.path}>"


def _decode_failure(
    response: Response, message: str, json_path: str = "$", *, expected: str
) -> ResponseDecodeError:
    return ResponseDecodeError(
        message,
        status=response.status,
        json_path=json_path,
        expected=expected,
        request_id=response.headers.get("X-Request-Id"),
        headers=response.headers,
    )


def json_body(response: Response, *, expected: str) -> Any:
    """The JSON data of a 2xx answer (step one of decoding); ``expected`` says what the body
    should have been, for the error's message.

    Raises:
        ApiError: (a subclass by status) for any status but 2xx.
        ResponseDecodeError: for a body that is not JSON (by its content type, or as strict
            JSON: no ``NaN``, no number that overflows a float, not nested too deeply).
    """
    if not 200 <= response.status < 300:
        raise api_error(response)
    content_type = response.headers.get("Content-Type")
    if not _is_json(content_type):
        message = f"expected JSON, got Content-Type {content_type!r}"
        raise _decode_failure(response, message, expected=expected)
    try:
        return _loads(response.body)
    except RecursionError:
        raise _decode_failure(response, "JSON nested too deeply", expected=expected) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int too long
        raise _decode_failure(response, f"not valid JSON ({exc})", expected=expected) from None


def decode(response: Response, into: type[T], *, lenient: bool = False) -> T:
    """The model ``into`` a 2xx answer carries: ``json_body``, then the converter's
    ``structure`` (step two, ``lenient`` for ``Preview`` and ``Unstable``: see
    ``_versions.is_lenient``), its failures as ``ResponseDecodeError`` with the JSON path.

    Raises:
        ApiError: (a subclass by status) for any status but 2xx.
        ResponseDecodeError: for a 2xx whose body is not JSON or not an ``into``.
    """
    expected = f"a {TYPE_NAMES.get(into, into.__name__)}"  # "a ticket", "a ticket.list"
    data = json_body(response, expected=expected)
    try:
        return structure(data, into, lenient=lenient)
    except StructureError as exc:
        json_path, message = error_path(exc)
        raise _decode_failure(response, message, json_path, expected=expected) from None


def decipher_ticket(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    reason: str = "",
    method: str = "GET",
    path: str = "",
) -> Ticket:
    """The ``Ticket`` a ``GET /tickets/{id}`` answer carries, or the error it amounts to:
    ``decode`` of it, for tests and tools that hold status, headers and body.

    Raises:
        ApiError: (a subclass by status) for any status but 2xx.
        ResponseDecodeError: for a 2xx whose body is not JSON or not a ticket.
    """
    response = Response(status, headers, body, reason=reason, method=method, path=path)
    return decode(response, Ticket)


def api_error(response: Response) -> ApiError:
    """The ``ApiError`` for a non-2xx answer, with Intercom's ``error.list`` when there is one;
    it keeps the answer's parsed rate-limit headers, for the retry policy."""
    data: Any = None
    if response.body and _is_json(response.headers.get("Content-Type")):
        try:
            data = _loads(response.body)
        except (ValueError, RecursionError):
            data = None
    request_id, errors = structure_error_list(data)
    error = api_error_class(response.status)(
        response.status,
        reason=response.reason,
        request_id=request_id or response.headers.get("X-Request-Id"),
        errors=errors,
        headers=response.headers,
        method=response.method,
        path=response.path,
    )
    error._limits = response.limits
    return error
