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

All job keys expire with the job (``job_ttl_s``), the cache with ``cache_ttl_s``.
"""

from __future__ import annotations

PREFIX = "reward:"
STREAM = PREFIX + "chunks"
HANDBACK = PREFIX + "handback"
STREAMS = (HANDBACK, STREAM)  # in the order workers read them
GROUP = "graders"
STATS = PREFIX + "stats"
WORKERS = PREFIX + "workers"
SANDBOXES = PREFIX + "sandboxes"  # worker name -> its sandbox's readiness (JSON), for /readyz


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

