"""API keys (bearer tokens) and per-key rate limits.

Keys come from ``REWARD_API_KEYS`` (comma-separated) and/or ``REWARD_API_KEYS_FILE`` (one per line, ``#``
comments); an entry ``sha256:<hex>`` is a key given by its hash, so the file need not hold secrets. Only
SHA-256 digests are kept in memory and a presented key is compared with every one of them in constant time.
A caller is known by its key id, the first 16 hex digits of the digest: jobs are owned by it, logs show it.
A key is sent as ``Authorization: Bearer <key>`` or as the HTTP Basic password with any user name (clients
that take only a URL: ``http://any:KEY@host:8000``); the header is never logged, only the key id.
With no key configured auth is off (the embedded default) and the service says so loudly at start-up.

Auth comes first: :class:`Authenticate` answers 401 before a body is read or validated, so a caller without
a key learns nothing about what a valid request looks like. Open without a key: ``/healthz``, ``/readyz``
(which then says only whether the service is ready), the docs and the schema. ``/metrics`` needs a key, or
is served only on ``REWARD_METRICS_PORT`` (for the operator's Prometheus; the API port then answers 404).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from reward_service import constants as k
from reward_service.errors import RateLimited, Unauthorized
from reward_service.queue.base import SharedCounters
from reward_service.queue.fair import ANONYMOUS
from reward_service.settings import Settings

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class KeyRing:
    digests: tuple[bytes, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        entries = [e for e in (settings.api_keys or "").split(",")]
        if settings.api_keys_file:
            lines = Path(settings.api_keys_file).read_text().splitlines()
            entries += [line.split("#", 1)[0] for line in lines]
        return cls(tuple(dict.fromkeys(_digest(e.strip()) for e in entries if e.strip())))

    @property
    def enabled(self) -> bool:
        return bool(self.digests)

    def identify(self, presented: str) -> str | None:
        """The key id of a valid key, else None. Every stored digest is compared (no early exit)."""
        digest = hashlib.sha256(presented.encode()).digest()
        match = None
        for stored in self.digests:
            if hmac.compare_digest(stored, digest):
                match = stored
        return match.hex()[:16] if match is not None else None


def _digest(entry: str) -> bytes:
    if entry.startswith("sha256:"):
        hexdigest = entry.removeprefix("sha256:").lower()
        if len(hexdigest) != 64:
            raise ValueError("a 'sha256:' API key entry needs 64 hex digits")
        return bytes.fromhex(hexdigest)
    return hashlib.sha256(entry.encode()).digest()


def warn_if_open(keys: KeyRing, settings: Settings) -> None:
    if keys.enabled:
        log.info("API key auth on (%d keys)", len(keys.digests))
        return
    exposed = settings.host not in ("127.0.0.1", "::1", "localhost")
    log.warning("AUTH IS OFF: no API keys configured (REWARD_API_KEYS / REWARD_API_KEYS_FILE); anyone who can "
                "reach %s:%d can grade and read jobs%s", settings.host, settings.port,
                " -- AND IT LISTENS BEYOND LOOPBACK" if exposed else "")


class RateLimiter:
    """Fixed one-minute windows per key: counted by the backend when it is shared by every API replica (the
    Redis queue: :class:`~reward_service.queue.base.SharedCounters`), else in this process."""

    def __init__(self, per_minute: int, shared: SharedCounters | None = None) -> None:
        self.per_minute = per_minute
        self.shared = shared
        self._local: dict[tuple[str, int], int] = defaultdict(int)

    async def hit(self, owner: str) -> None:
        if not self.per_minute:
            return
        now = time.time()
        window = int(now // 60)
        if self.shared is not None:
            count = await self.shared.count(k.rate_key(owner, window), 120)
        else:
            if len(self._local) > 10_000:
                self._local = defaultdict(int, {w: c for w, c in self._local.items() if w[1] == window})
            self._local[(owner, window)] += 1
            count = self._local[(owner, window)]
        if count > self.per_minute:
            raise RateLimited(f"more than {self.per_minute} requests per minute for this API key",
                              retry_after=(window + 1) * 60 - now)


async def caller(request: Request) -> str:
    """The caller's key id (``anonymous`` when auth is off); 401 without a valid key; 429 past its rate."""
    keys: KeyRing = request.app.state.keys
    owner = getattr(request.state, "caller", None) if keys.enabled else ANONYMOUS
    if owner is None:  # Authenticate has refused it already; this is the second wall
        raise Unauthorized(MISSING)
    request.state.caller = owner
    await request.app.state.rate_limiter.hit(owner)
    return owner


MISSING = "missing or invalid API key (send 'Authorization: Bearer <key>', or the key as the Basic password)"
OPEN = ("/healthz", "/readyz", "/openapi.json", "/docs")  # and the docs' assets: no key needed


def identify(keys: KeyRing, header: str) -> str | None:
    """The key id of the valid key in an ``Authorization`` header, else None: ``Bearer <key>``, or HTTP Basic
    with the key as the password and any user name (what a URL's ``http://any:KEY@host`` becomes in requests
    and httpx, for clients that take only a URL: verl, SkyRL, SandboxFusion's client)."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if not token:
        return None
    if scheme.lower() == "basic":
        token = _basic_password(token)
    elif scheme.lower() != "bearer":
        return None
    return keys.identify(token) if token else None


def _basic_password(credentials: str) -> str:
    """The password of Basic ``credentials`` (base64 of ``user:password``), '' when they are not that."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""
    _, colon, password = decoded.partition(":")
    return password if colon else ""


class Authenticate:
    """Pure ASGI middleware: who is calling (``scope["state"]["caller"]``: a key id, or None without a valid
    key), and a 401 for any route but the open ones before its body is read. Requests that arrive on the
    metrics port (``metrics_port``) reach ``/metrics`` only, without a key."""

    def __init__(self, app: Any, keys: KeyRing, metrics_port: int | None) -> None:
        self.app, self.keys, self.metrics_port = app, keys, metrics_port

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, on_metrics_port = scope["path"], self._on_metrics_port(scope)
        if self.metrics_port is not None and on_metrics_port != (path == "/metrics"):
            await _answer(send, 404, "not here: /metrics is served on the metrics port alone"
                          if path == "/metrics" else "the metrics port serves /metrics only")
            return
        if self.keys.enabled:
            headers = dict(scope.get("headers") or [])
            owner = identify(self.keys, headers.get(b"authorization", b"").decode("latin-1"))
            scope.setdefault("state", {})["caller"] = owner
            public = on_metrics_port or path in OPEN or path.startswith("/docs-assets/")
            if owner is None and not public:
                await _answer(send, 401, MISSING, [(b"www-authenticate", b"Bearer")])
                return
        await self.app(scope, receive, send)

    def _on_metrics_port(self, scope: dict[str, Any]) -> bool:
        server = scope.get("server")
        return bool(self.metrics_port and server and server[1] == self.metrics_port)


async def _answer(send: Any, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


CallerDep = Annotated[str, Depends(caller)]
