"""Which proxy a client's requests go through: ``proxy=``, else ``HTTPS_PROXY`` /
``HTTP_PROXY`` / ``ALL_PROXY`` and ``NO_PROXY`` (as httpx and requests read them), checked once
when the client is made.

The environment is read only for a session the client makes, and only when ``trust_env`` (the
default); a session the application hands over keeps its own settings (its ``trust_env`` and
``proxy``). As Go's ``ProxyFromEnvironment`` does, a loopback ``base_url`` (a local fake) never
goes through an environment proxy: the proxy's loopback is not ours.

The access token must never reach a proxy in clear: through a proxy an ``https`` API root is
reached by ``CONNECT`` (the proxy sees the host and port, then TLS), while plain ``http`` would
hand the proxy every header; so plain ``http`` through a proxy is refused unless
``allow_insecure_http``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping

import aiohttp
from yarl import URL

from ._protocol import is_loopback_url

__all__ = ["resolve_proxy"]


def resolve_proxy(
    base_url: str,
    proxy: object,
    proxy_auth: object,
    *,
    trust_env: bool,
    own_session: bool,
    allow_insecure_http: bool,
    environ: Mapping[str, str] | None = None,
) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The proxy (and its credentials) for requests to ``base_url``, or ``(None, None)``."""
    if not isinstance(trust_env, bool):
        raise TypeError("trust_env must be a bool")
    if proxy_auth is not None and not isinstance(proxy_auth, aiohttp.BasicAuth):
        raise TypeError(f"proxy_auth must be an aiohttp.BasicAuth, not {type(proxy_auth).__name__}")
    setting = "proxy"
    if proxy is None:
        if proxy_auth is not None:
            raise ValueError("proxy_auth= needs proxy=")
        if not (trust_env and own_session) or is_loopback_url(base_url):
            return None, None
        proxy, setting = _from_env(base_url, environ)
        if proxy is None:
            return None, None
    url = _proxy_url(proxy, setting)
    if URL(base_url).scheme == "http" and not allow_insecure_http:
        raise ValueError(
            f"{base_url} is plain http: through the proxy ({setting}) the access token would "
            "travel in clear to it. Use an https base_url, leave the proxy out (NO_PROXY, "
            "trust_env=False), or pass allow_insecure_http=True"
        )
    return url, proxy_auth


def _from_env(base_url: str, environ: Mapping[str, str] | None) -> tuple[str | None, str]:
    """The environment's proxy for ``base_url``, and the variable it came from."""
    if environ is None:
        proxies = urllib.request.getproxies_environment()
    else:
        proxies = {
            key.lower()[: -len("_proxy")]: value
            for key, value in environ.items()
            if key.lower().endswith("_proxy") and value
        }
    url = URL(base_url)
    host = url.host or ""
    if proxies.get("no") and _bypassed(host, url.port, proxies["no"]):
        return None, ""
    for scheme in (url.scheme, "all"):
        value = proxies.get(scheme, "").strip()
        if value:
            return value, f"{scheme.upper()}_PROXY"
    return None, ""


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` names ``host`` (``*``, a host, a ``.domain`` or ``domain`` suffix,
    with or without ``:port``), as requests and httpx read it."""
    host = host.lower().strip("[]")
    for entry in (part.strip().lower() for part in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and (not entry_port.isdigit() or int(entry_port) != port):
            continue
        name = name.lstrip(".").strip("[]")
        if host == name or host.endswith("." + name):
            return True
    return False


def _proxy_url(proxy: object, setting: str) -> URL:
    if isinstance(proxy, str):
        text = proxy.strip()
        if "://" not in text:
            text = "http://" + text  # as httpx and requests take "proxy.corp:3128"
        url = URL(text)
    elif isinstance(proxy, URL):
        url = proxy
    else:
        raise TypeError(f"{setting} must be a str or yarl.URL, not {type(proxy).__name__}")
    if url.scheme not in ("http", "https") or not url.host:
        where = url.with_user(None).with_password(None) if url.host else "(unreadable)"
        raise ValueError(
            f"{setting}: {where} is not an http:// or https:// proxy URL "
            "(aiohttp supports no other kind)"
        )
    return url
