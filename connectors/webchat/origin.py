"""Which web pages may talk to a chat: the Origin header against the allowed origins (pure).

Browsers send Origin on every cross-origin request, on POSTs and on the WebSocket handshake,
so a page of another site cannot open a chat in a visitor's name. A request without Origin is
no browser page of another site (curl, a server) and the visitor token still guards it.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of a URL, lower case, default port left out; None if it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}:{port}"
    return f"{parts.scheme}://{host}"


def matches(origin: str, pattern: str) -> bool:
    """Whether an origin matches an allowed one; "https://*.tp.example" takes any subdomain."""
    if "://*." not in pattern:
        return origin == (origin_of(pattern) or pattern)
    scheme, _, rest = pattern.partition("://*.")
    wanted = origin_of(f"{scheme}://{rest}")
    found_scheme, _, found_host = origin.partition("://")
    if wanted is None or found_scheme != scheme:
        return False
    suffix = wanted.partition("://")[2]
    return found_host.endswith("." + suffix)


def allowed(origin: str | None, patterns: Iterable[str], own_url: str) -> bool:
    """Whether a request with this Origin header may go on (absent header: yes)."""
    if origin is None:
        return True
    found = origin_of(origin)
    if found is None:  # "null" (sandboxed frames, file://) or garbage
        return False
    own = origin_of(own_url)
    return found == own or any(matches(found, p) for p in patterns)
