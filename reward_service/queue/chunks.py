"""What the API and the workers share on Redis: the chunk format (JSON, never pickle), the idempotent result
write, and the counters both paths keep (items by task and status, cache hits, sandbox runs).

A job is split into chunks of ``chunk_size`` items; each chunk is one stream entry. A result is written once
per item index with HSETNX, in a Lua script that also counts it, so a redelivered chunk can neither lose
nor double-count an item. A chunk handed back by a stopping worker carries only the items it had not
started, with their indices in the job. A chunk carries its owner (the API key id that sent it), so that a
worker starts the items it holds fairly across owners.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import redis.exceptions

from reward_service import constants as k
from reward_service.queue.fair import ANONYMOUS
from reward_service.schemas import ItemResult, ScoreItem, Status
from reward_service.settings import Settings
from reward_service.surrogates import valid

REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError)
"""Redis unreachable (restarting, loading its data): the API answers 503, a worker retries."""


@dataclass(frozen=True)
class Chunk:
    job: str
    start: int                   # index of the first item in the job
    recipe: str                  # Recipe.key (canonical JSON)
    items: tuple[dict[str, Any], ...]
    expires: int                 # epoch seconds when the job's keys expire
    indices: tuple[int, ...] | None = None  # each item's index in the job; None: start, start + 1, ...
    owner: str = ANONYMOUS       # the API key id whose items these are (older entries have none)

    def to_fields(self) -> dict[str, str]:
        fields = {"job": self.job, "start": str(self.start), "recipe": self.recipe,
                  "items": json.dumps(self.items, separators=(",", ":")), "expires": str(self.expires),
                  "owner": self.owner}
        if self.indices is not None:
            fields["indices"] = json.dumps(self.indices)
        return fields

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Chunk:
        indices = tuple(json.loads(fields["indices"])) if "indices" in fields else None
        items = tuple(json.loads(fields["items"]))
        if indices is not None and len(indices) != len(items):
            raise ValueError("indices and items differ in length")
        return cls(job=fields["job"], start=int(fields["start"]), recipe=fields["recipe"], items=items,
                   expires=int(fields["expires"]), indices=indices, owner=fields.get("owner") or ANONYMOUS)

    def indexed(self) -> list[tuple[int, dict[str, Any]]]:
        indices = self.indices if self.indices is not None else range(self.start, self.start + len(self.items))
        return list(zip(indices, self.items, strict=True))

    def only(self, indices: list[int]) -> Chunk:
        """This chunk reduced to the items at ``indices`` (indices in the job)."""
        rows = dict(self.indexed())
        keep = tuple(sorted(indices))
        return Chunk(self.job, keep[0], self.recipe, tuple(rows[i] for i in keep), self.expires, keep, self.owner)


def tally(items: list[ScoreItem], results: list[ItemResult]) -> Counter[str]:
    """Counter fields for graded items: ``items:<task>:<status>``, ``cache_hits``, ``sandbox:<status>``,
    ``sandbox_timeouts`` (code items killed at the hard limit or with a test over its time limit)."""
    counts: Counter[str] = Counter()
    for item, result in zip(items, results, strict=True):
        counts.update(item_fields(item, result))
    return counts


def item_fields(item: ScoreItem, result: ItemResult) -> list[str]:
    fields = [f"items:{item.task}:{result.status.value}"]
    if result.details.get("cached"):
        fields.append("cache_hits")
    if item.task == "code":
        fields.append(f"sandbox:{result.status.value}")
        verdict = (result.details.get("accuracy") or {}).get("verdict")
        if result.status is Status.timeout or verdict == "time_limit":
            fields.append("sandbox_timeouts")
    return fields


# KEYS: results, stats, notify. ARGV: expires-at, notify (1: wake the waiting API, this write completes a
# chunk; 0: do not), then (index, result JSON, space-separated counter fields)*.
# A result already there is kept (first answer wins) and not counted again.
WRITE_RESULTS = """
local new = 0
for i = 3, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    new = new + 1
    for field in string.gmatch(ARGV[i + 2], '%S+') do redis.call('HINCRBY', KEYS[2], field, 1) end
  end
end
redis.call('EXPIREAT', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
  redis.call('RPUSH', KEYS[3], new)
  redis.call('EXPIREAT', KEYS[3], ARGV[1])
end
return new
"""


def connect(settings: Settings, url: str | None = None) -> Any:
    """An asyncio Redis client with timeouts (none of its calls can hang forever), to ``url`` (a cell's)
    or ``redis_url``."""
    import redis.asyncio as redis
    url = url or settings.redis_url
    if not url:
        raise ValueError("no redis_url set")
    return redis.Redis.from_url(url, decode_responses=True,
                                socket_timeout=settings.redis_timeout_s,
                                socket_connect_timeout=settings.redis_timeout_s, health_check_interval=30)


async def ensure_group(client: Any, streams: tuple[str, ...] = k.STREAMS) -> None:
    """Create the streams and their consumer group when missing (harmless when they exist)."""
    for stream in streams:
        try:
            await client.xgroup_create(stream, k.GROUP, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


async def all_streams(client: Any) -> list[str]:
    """The general streams and every model pool's."""
    pools = sorted(await client.smembers(k.POOLS))
    return [*k.STREAMS, *(s for pool in pools for s in k.pool_streams(pool))]


def failed(item: dict[str, Any], reason: str) -> ItemResult:
    return ItemResult(id=valid(item.get("id")), reward=None, status=Status.error, error=reason)
