"""API keys (bearer tokens) and per-key rate limits.

Keys come from ``REWARD_API_KEYS`` (comma-separated) and/or ``REWARD_API_KEYS_FILE`` (one per line, ``#``
comments); an entry ``sha256:<hex>`` is a key given by its hash, so the file need not hold secrets. Only
SHA-256 digests are kept in memory and a presented key is compared with every one of them in constant time.
A caller is known by its key id, the first 16 hex digits of the digest: jobs are owned by it, logs show it.
With no key configured auth is off (the embedded default) and the service says so loudly at start-up.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from reward_service import constants as k
from reward_service.errors import RateLimited, Unauthorized
from reward_service.settings import Settings

log = logging.getLogger(__name__)

ANONYMOUS = "anonymous"


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
    """Fixed one-minute windows per key: in Redis when the service has one (shared by every API replica),
    else in this process."""

    def __init__(self, per_minute: int, client: Any = None) -> None:
        self.per_minute = per_minute
        self.redis = client
        self._local: dict[tuple[str, int], int] = defaultdict(int)

    async def hit(self, owner: str) -> None:
        if not self.per_minute:
            return
        now = time.time()
        window = int(now // 60)
        if self.redis is not None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(k.rate_key(owner, window))
                pipe.expire(k.rate_key(owner, window), 120)
                count, _ = await pipe.execute()
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
    owner = _identify(keys, request.headers.get("authorization", "")) if keys.enabled else ANONYMOUS
    request.state.caller = owner
    await request.app.state.rate_limiter.hit(owner)
    return owner


def _identify(keys: KeyRing, header: str) -> str:
    scheme, _, token = header.partition(" ")
    owner = keys.identify(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if owner is None:
        raise Unauthorized("missing or invalid API key (send 'Authorization: Bearer <key>')")
    return owner


CallerDep = Annotated[str, Depends(caller)]
