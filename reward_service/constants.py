"""Every Redis key and stream name the service uses, in one place.

    reward:chunks                  stream of chunks to grade; consumer group ``graders``. An entry is deleted
                                   once acknowledged, so XLEN is the queue depth (waiting + in flight).
    reward:handback                stream, same group: what a stopping worker hands back unstarted; workers
                                   read it before reward:chunks, so handed-back work keeps its place in line
    reward:job:{id}                hash: the job's record (owner, total, created, expires, kind)
    reward:results:{id}            hash: item index -> result JSON, written with HSETNX (first answer wins)
    reward:attempts:{id}           hash: item index -> times a worker started grading it (set before it starts)
    reward:notify:{id}             list: a token per chunk answered; the API blocks on it (BLPOP)
    reward:idem:{owner}:{hash}     string: the job id an Idempotency-Key made
    reward:cache:{content hash}    string: a graded result (status ok), shared by every worker
    reward:rate:{owner}:{minute}   counter: requests of one API key in one minute
    reward:stats                   hash: counters the workers add to (items by task/status, cache hits, ...)
    reward:workers                 sorted set: worker name -> time of its last heartbeat
    reward:sandboxes               hash: worker name -> its report (sandbox readiness, reward models served)
    reward:pools                   set: every model pool that has streams
    reward:chunks:{pool}           a model pool's streams: chunks whose recipe names a reward model go to a
    reward:handback:{pool}         pool whose workers serve every model it names (``worker --models``;
                                   pool = the models, sorted, comma-joined); those workers read them first
    reward:tools:hosts             hash: worker name -> its tool host's report (JSON: at, draining, sessions,
                                   calls): the API routes tool calls to hosts beating and not draining
    reward:tools:req:{worker}      list: tool calls for one worker (LPUSH by the API, BLPOP by the worker)
    reward:tools:rep:{request id}  list: the one reply to a tool call (expires soon after)

All job keys expire with the job (``job_ttl_s``), the cache with ``shared_cache_ttl_s``.
"""

from __future__ import annotations

PREFIX = "reward:"
STREAM = PREFIX + "chunks"
HANDBACK = PREFIX + "handback"
STREAMS = (HANDBACK, STREAM)  # in the order workers read them
GROUP = "graders"
STATS = PREFIX + "stats"
WORKERS = PREFIX + "workers"
SANDBOXES = PREFIX + "sandboxes"  # worker name -> its report (JSON): sandbox readiness, models served
POOLS = PREFIX + "pools"


def pool_of(models: list[str] | set[str]) -> str | None:
    """The pool a worker serving ``models`` belongs to; None for a worker without reward models."""
    return ",".join(sorted(set(models))) or None


def pool_models(pool: str) -> set[str]:
    return set(pool.split(","))


def pool_streams(pool: str | None) -> tuple[str, str]:
    """A pool's (hand-back, chunks) streams, in the order workers read them; the general ones for None."""
    return (f"{HANDBACK}:{pool}", f"{STREAM}:{pool}") if pool else STREAMS


def handback_of(stream: str) -> str:
    """Where work read from ``stream`` goes back to: the hand-back stream of the same pool."""
    return stream if stream.startswith(HANDBACK) else HANDBACK + stream[len(STREAM):]


def job_key(job_id: str) -> str:
    return f"{PREFIX}job:{job_id}"


def results_key(job_id: str) -> str:
    return f"{PREFIX}results:{job_id}"


def attempts_key(job_id: str) -> str:
    return f"{PREFIX}attempts:{job_id}"


def notify_key(job_id: str) -> str:
    return f"{PREFIX}notify:{job_id}"


def idempotency_key(owner: str, key_hash: str) -> str:
    return f"{PREFIX}idem:{owner}:{key_hash}"


def cache_key(content_hash: str) -> str:
    return f"{PREFIX}cache:{content_hash}"


def rate_key(owner: str, window: int) -> str:
    return f"{PREFIX}rate:{owner}:{window}"


# -- the sandbox as a tool, with the Redis queue (reward_service/tools/host.py, routed.py) ----------------------

TOOL_HOSTS = PREFIX + "tools:hosts"


def tool_requests_key(worker: str) -> str:
    return f"{PREFIX}tools:req:{worker}"


def tool_reply_key(request_id: str) -> str:
    return f"{PREFIX}tools:rep:{request_id}"
