"""Headers the application adds: ``default_headers=``, ``with_options(headers=...)`` and the
``User-Agent``'s ``app_info=`` suffix, checked before anything is sent.

The headers that carry the client's own settings are refused there, with the setting to use
(``Authorization`` is ``token=``, ``Intercom-Version`` is ``version=``); so are those aiohttp
or the request path set (``Content-Type``, ``Host``, ``Content-Length``). A name must be an
HTTP token, and no value may hold a line break or a NUL (a header injected into the request).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

__all__ = ["AppInfo", "check_headers", "user_agent"]

# What each refused header is set by instead (by lowercase name).
RESERVED: Mapping[str, str] = {
    "authorization": "the token= argument (or INTERCOM_ACCESS_TOKEN)",
    "intercom-version": "the version= argument",
    "content-type": "nothing: the client sets it for a JSON body",
    "content-length": "nothing: aiohttp sets it",
    "host": "base_url= (or region=)",
    "transfer-encoding": "nothing: aiohttp sets it",
}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD = re.compile(r"[\r\n\x00]")


def check_headers(headers: object, setting: str) -> dict[str, str]:
    """``headers`` (a mapping of str to str) as a dict, or a ``ValueError`` / ``TypeError``
    that names ``setting`` and the header (never its value)."""
    if not isinstance(headers, Mapping):
        raise TypeError(f"{setting} must be a mapping of header names to values")
    checked: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ValueError(f"{setting}: {str(name)[:40]!r} is not a valid header name")
        lower = name.lower()
        if lower in RESERVED:
            raise ValueError(f"{setting} may not set {name}: use {RESERVED[lower]}")
        if lower in seen:
            raise ValueError(f"{setting} sets {name} twice (header names ignore case)")
        seen.add(lower)
        if not isinstance(value, str):
            raise TypeError(f"{setting}: the value of {name} must be a str")
        if _BAD.search(value):
            raise ValueError(f"{setting}: the value of {name} contains a line break or NUL")
        checked[name] = value.strip()
    return checked


def _part(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"app_info {what} must be a non-empty str")
    if _BAD.search(value) or not value.isprintable():
        raise ValueError(f"app_info {what} contains a line break or a control character")
    return value.strip()


@attrs.frozen
class AppInfo:
    """Your application, named in each request's ``User-Agent`` (as stripe-python's
    ``set_app_info``): ``IntercomClient(app_info=AppInfo("ticket-sync", "1.4",
    "https://example.com"))`` sends ``intercom-async/X.Y ticket-sync/1.4 (+https://example.com)``.

    Attributes:
        name: the application's name (no spaces: they are replaced by ``-``).
        version: its version, or ``None``.
        url: where to learn about it, or ``None``.
    """

    name: str
    version: str | None = None
    url: str | None = None

    def __attrs_post_init__(self) -> None:
        _part(self.name, "name")
        if self.version is not None:
            _part(self.version, "version")
        if self.url is not None:
            _part(self.url, "url")

    def product(self) -> str:
        """This app as a ``User-Agent`` product: ``name/version (+url)``."""
        text = "-".join(self.name.split())
        if self.version is not None:
            text += "/" + "-".join(self.version.split())
        if self.url is not None:
            text += f" (+{self.url.strip()})"
        return text


def user_agent(base: str, app_info: object) -> str:
    """``base`` (``intercom-async/X.Y``) with ``app_info``'s product after it."""
    if app_info is None:
        return base
    if not isinstance(app_info, AppInfo):
        raise TypeError(f"app_info must be an AppInfo, not {type(app_info).__name__}")
    return f"{base} {app_info.product()}"
