"""Which ``Intercom-Version`` an endpoint needs, and which versions are parsed leniently.

Sans I/O: the client calls ``require_version`` before it sends a request to an endpoint that
older versions lack, and ``is_lenient`` to choose how the answer is structured.
"""

from __future__ import annotations

import re

from ._errors import UnsupportedVersionError

__all__ = ["LENIENT_VERSIONS", "SEARCH_SINCE", "is_lenient", "require_version"]

# The versions whose shape Intercom changes without a description: their answers are parsed
# leniently (a field of an unexpected type goes to ``extra``), and they have every endpoint.
LENIENT_VERSIONS = frozenset(["Preview", "Unstable"])
SEARCH_SINCE = "2.10"  # the first version with POST /tickets/search
_NUMBER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def _number(version: str) -> tuple[int, int] | None:
    match = _NUMBER.fullmatch(version)
    return None if match is None else (int(match[1]), int(match[2]))


def is_lenient(version: str) -> bool:
    """Whether answers for ``version`` are structured leniently (``Preview``, ``Unstable``)."""
    return version in LENIENT_VERSIONS


def require_version(version: str, since: str, endpoint: str) -> None:
    """Nothing if ``version`` (the client's ``Intercom-Version``) has ``endpoint``, which came
    in version ``since``; ``Preview`` and ``Unstable`` have every endpoint.

    Raises:
        UnsupportedVersionError: (a ``ValueError``) naming the version to ask for.
    """
    if version in LENIENT_VERSIONS:
        return
    asked, needed = _number(version), _number(since)
    if needed is None:
        raise ValueError(f"since must be a version such as '2.10', not {since!r}")
    if asked is not None and asked >= needed:
        return
    raise UnsupportedVersionError(
        f"{endpoint} needs Intercom-Version {since} or later; this client sends {version}: "
        f'IntercomClient(version="{since}")',
        version=version,
        since=since,
    )
