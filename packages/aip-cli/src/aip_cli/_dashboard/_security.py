"""What keeps the dashboard safe: the token, the Host and Origin checks, rate limits, headers, paths.

The dashboard binds to 127.0.0.1 unless told otherwise; on any other address a token is required and
every request without it is refused (401), static files included. The token comes as
``Authorization: Bearer TOKEN``, as the ``aip_token`` cookie (set when the page is opened with
``?token=TOKEN``; HttpOnly, SameSite=Strict), or as ``?token=`` itself.

Other defences, for every address:

- Host header: on a loopback address only ``127.0.0.1``, ``localhost`` and ``[::1]`` with the port are
  accepted, so that a web page cannot reach the dashboard through DNS rebinding.
- Origin: a WebSocket handshake, and every request that is not GET or HEAD, must come from the
  dashboard's own origin (browsers always send it); requests that change something also need the
  header ``X-AIP-Request`` (which a cross-site form cannot send).
- Rate limits: each client address has a token bucket of requests; past it the answer is 429.
- Headers: a content security policy that allows scripts, styles and connections only from the
  dashboard itself (no inline script), no framing, no sniffing, no referrer.
- Paths: files are named by the client only as a plain name inside one of the allowed folders;
  :func:`contained_file` refuses anything else (``..``, absolute paths, encoded dots, symlinks that
  lead out, special files).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

__all__ = [
    "CHANGE_HEADER",
    "CSP",
    "TOKEN_COOKIE",
    "PathRefused",
    "RateLimiter",
    "SecurityMiddleware",
    "contained_file",
    "is_loopback",
    "new_token",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "aip_token"
CHANGE_HEADER = "x-aip-request"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
]
_SAFE_METHODS = frozenset({"GET", "HEAD"})


def new_token() -> str:
    """A fresh random token (32 bytes of the system's secure generator, URL-safe)."""
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``127.0.0.0/8``, ``::1`` or ``localhost``).

    Args:
        host: An address or ``localhost``.

    Returns:
        ``True`` for loopback addresses.
    """
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class RateLimiter:
    """Token buckets per key (a client's address): ``rate`` per second, bursts up to ``burst``.

    Args:
        rate: Tokens added per second.
        burst: The bucket's size.
        max_keys: Buckets kept at most (the oldest are dropped), so that many addresses cannot fill memory.
    """

    def __init__(self, rate: float, burst: float, max_keys: int = 4096) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, cost: float = 1.0, now: float | None = None) -> bool:
        """Take ``cost`` tokens from ``key``'s bucket if it holds them.

        Args:
            key: Whose bucket.
            cost: Tokens needed.
            now: The time (``time.monotonic()`` by default).

        Returns:
            Whether the request may go on.
        """
        t = time.monotonic() if now is None else now
        level, last = self._buckets.pop(key, (self.burst, t))
        level = min(self.burst, level + (t - last) * self.rate)
        allowed = level >= cost
        if allowed:
            level -= cost
        self._buckets[key] = (level, t)  # re-inserted: the dict's order is last use
        while len(self._buckets) > self.max_keys:
            self._buckets.pop(next(iter(self._buckets)))
        return allowed


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


@dataclass(frozen=True)
class _Refusal:
    status: int
    message: str


class SecurityMiddleware:
    """The ASGI middleware that enforces the checks of this module for HTTP and WebSocket requests.

    Args:
        app: The application.
        token: The required token, or ``None`` (loopback only).
        allowed_hosts: Accepted ``Host`` header values (``host:port``); ``None`` accepts any (an address
            other than loopback, where the token protects).
        rate: Requests per second per client.
        burst: Burst size per client.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        allowed_hosts: frozenset[str] | None,
        rate: float = 60.0,
        burst: float = 240.0,
    ) -> None:
        self.app = app
        self.token = token
        self.allowed_hosts = allowed_hosts
        self.limiter = RateLimiter(rate, burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._check(scope)
        if refusal is not None:
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": refusal.message[:100]})
            else:
                await self._refuse(send, refusal)
            return
        if kind == "http" and self._token_in_query(scope) and scope.get("path") == "/":
            await self._set_cookie_and_redirect(send)
            return

        async def send_with_headers(message: Message) -> None:
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in present]
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    # --- the checks ------------------------------------------------------------------------------

    def _check(self, scope: Scope) -> _Refusal | None:
        host = _header(scope, b"host") or ""
        if self.allowed_hosts is not None and host.lower() not in self.allowed_hosts:
            return _Refusal(421, f"host {host!r} is not this dashboard's address")
        client = scope.get("client") or ("?", 0)
        if not self.limiter.allow(str(client[0])):
            return _Refusal(429, "too many requests; slow down")
        if self.token is not None and not self._has_token(scope):
            return _Refusal(401, "this dashboard needs its token: open the address it printed (with ?token=...)")
        method = scope.get("method", "GET")
        origin = _header(scope, b"origin")
        if scope["type"] == "websocket" or method not in _SAFE_METHODS:
            scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
            if origin is not None and origin != f"{scheme}://{host}":
                return _Refusal(403, f"requests from {origin!r} are not accepted")
            if scope["type"] == "websocket" and origin is None:
                return _Refusal(403, "a WebSocket needs the Origin header of the dashboard's page")
            if scope["type"] == "http" and _header(scope, CHANGE_HEADER.encode()) is None:
                return _Refusal(403, f"requests that change something need the {CHANGE_HEADER} header")
        return None

    def _has_token(self, scope: Scope) -> bool:
        assert self.token is not None
        expected = self.token.encode()
        candidates: list[str] = []
        auth = _header(scope, b"authorization")
        if auth and auth.lower().startswith("bearer "):
            candidates.append(auth[7:].strip())
        cookie = _header(scope, b"cookie")
        if cookie:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(cookie)
            except Exception:  # a malformed cookie header is no token
                jar = SimpleCookie()
            if TOKEN_COOKIE in jar:
                candidates.append(jar[TOKEN_COOKIE].value)
        query = self._query_token(scope)
        if query is not None:
            candidates.append(query)
        return any(hmac.compare_digest(c.encode(), expected) for c in candidates)

    @staticmethod
    def _query_token(scope: Scope) -> str | None:
        raw = scope.get("query_string", b"").decode("latin-1")
        values = parse_qs(raw).get("token")
        return values[0] if values else None

    def _token_in_query(self, scope: Scope) -> bool:
        return self.token is not None and self._query_token(scope) is not None

    # --- answers ---------------------------------------------------------------------------------

    async def _refuse(self, send: Send, refusal: _Refusal) -> None:
        body = json.dumps({"error": refusal.message}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [*_HEADERS, (b"cache-control", b"no-store")]
        if refusal.status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="aip-dashboard"'))
        await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _set_cookie_and_redirect(self, send: Send) -> None:
        assert self.token is not None
        cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        headers = [(b"location", b"/"), (b"set-cookie", cookie.encode()), (b"content-length", b"0")]
        headers += [*_HEADERS, (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


class PathRefused(ValueError):
    """A file name from a request that does not name a regular file inside the allowed folder."""


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,200}$")


def contained_file(root: Path, name: str, *, suffix: str | None = None) -> Path:
    """The regular file ``root/name``, where ``name`` must be a plain file name (no folders).

    Everything else is refused: separators, ``..``, leading dots, percent signs (encoded dots that a
    later decoding could turn into ``..``), control characters, a wrong suffix, a symlink whose target
    lies outside ``root``, and anything that is not a regular file.

    Args:
        root: The allowed folder.
        name: The file name from the request.
        suffix: The suffix the file must have.

    Returns:
        The resolved path.

    Raises:
        PathRefused: The name is refused (the message says why, without revealing other paths).
    """
    if not _NAME.match(name) or ".." in name or name.strip() != name:
        raise PathRefused(f"{name!r} is not a file name this dashboard serves")
    if suffix is not None and not name.endswith(suffix):
        raise PathRefused(f"{name!r} is not a {suffix} file")
    base = root.resolve()
    candidate = (base / name).resolve()
    if candidate.parent != base:
        raise PathRefused(f"{name!r} leads outside the folder")
    if not candidate.is_file():
        raise PathRefused(f"no file {name!r}")
    return candidate
