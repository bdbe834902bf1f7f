"""Closing the sockets of connections whose event loop is closed.

asyncio closes a transport through its event loop, and a closed loop's transports cannot be
closed at all (``RuntimeError: Event loop is closed``): their sockets would stay open until the
garbage collector found them, each with a ``ResourceWarning``. Neither asyncio nor the libraries
on it (aiohttp, redis-py) have a public way to reach such a socket, so ``close_transport`` looks
for it where asyncio keeps it, and leaves alone whatever it does not find there.
"""

from __future__ import annotations

import socket

__all__ = ["close_transport"]


def close_transport(transport: object) -> None:
    """Close the socket under ``transport`` (an asyncio transport, plain or TLS) and mark the
    transport closed, without its event loop."""
    tls = getattr(transport, "_ssl_protocol", None)
    if tls is not None:  # TLS: the socket is the transport's under the TLS layer
        transport._closed = True  # type: ignore[attr-defined]
        transport = getattr(tls, "_transport", None)
    sock = getattr(transport, "_sock", None)
    if isinstance(sock, socket.socket):
        sock.close()
        transport._sock = None  # type: ignore[attr-defined]
        transport._closing = True  # type: ignore[attr-defined]  # is_closing(), as asyncio's own
