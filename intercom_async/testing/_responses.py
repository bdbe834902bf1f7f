"""The answers the fake sends: Intercom's ``error.list``, a proxy's HTML page, and broken ones."""

from __future__ import annotations

import json
from http import HTTPStatus

from aiohttp import web

__all__ = [
    "JSON",
    "RATE_LIMIT_MESSAGE",
    "default_error",
    "error_response",
    "html_response",
    "reset_connection",
    "truncated_response",
]

JSON = "application/json; charset=utf-8"
RATE_LIMIT_MESSAGE = "You have exceeded the rate limit. Please try again later."

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad Request"),
    401: ("unauthorized", "Access Token Invalid"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Resource Not Found"),
    408: ("request_timeout", "Request Timeout"),
    409: ("conflict", "Conflict"),
    422: ("parameter_invalid", "Unprocessable Entity"),
    429: ("rate_limit_exceeded", RATE_LIMIT_MESSAGE),
    500: ("server_error", "Internal Server Error"),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("service_unavailable", "Service Unavailable"),
    504: ("gateway_timeout", "Gateway Timeout"),
}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def default_error(status: int) -> tuple[str, str]:
    """The ``(code, message)`` of the ``error.list`` Intercom sends with ``status``."""
    fallback = ("server_error" if status >= 500 else "client_error", _phrase(status))
    return _ERRORS.get(status, fallback)


def error_response(status: int, code: str, message: str, headers: dict[str, str]) -> web.Response:
    """``status`` with Intercom's ``error.list`` body; ``headers`` must hold ``X-Request-Id``."""
    body = {
        "type": "error.list",
        "request_id": headers["X-Request-Id"],
        "errors": [{"code": code, "message": message}],
    }
    headers["Content-Type"] = JSON
    return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)


def html_response(status: int, headers: dict[str, str]) -> web.Response:
    """An HTML error page like the one nginx in front of an API sends."""
    title = f"{status} {_phrase(status)}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    headers["Content-Type"] = "text/html"
    return web.Response(status=status, body=page.encode(), headers=headers)


def reset_connection(request: web.Request) -> web.StreamResponse:
    """Drop the connection at once; the response returned is never sent (aiohttp ignores it)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=500)


async def truncated_response(
    request: web.Request, body: bytes, headers: dict[str, str]
) -> web.StreamResponse:
    """200 promising ``len(body)`` bytes, of which only the first half is sent; then hang up."""
    headers["Content-Type"] = JSON
    response = web.StreamResponse(status=200, headers=headers)
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    transport = request.transport
    if transport is not None:
        transport.close()  # sends what is buffered, then closes
    return response
