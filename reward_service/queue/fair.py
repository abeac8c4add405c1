"""Fair share of graders between callers: which waiting item starts next.

Items wait per caller (an API key id), first in first out within a caller. A free grader takes the next item
of the caller that has had the least grader time so far, counting what its running items have used up to
now (ties: the caller served longest ago). That is fair queuing by measured service time rather than round
robin by item count, because item costs differ by a thousand times (a math item takes milliseconds, a code
item up to minutes): round robin would give a caller of slow code items nearly all the graders and a caller
of quick math items one start per slow item; here both get the same grader time, so the quick caller's items
go through almost as if it were alone. Time away is neither credit nor debt: a caller (re)joins level with
the least-served busy caller (or where the last one left off), so it neither runs alone for the time it was
idle nor pays for time it used while nobody else wanted the graders.

Optionally at most ``limit`` items of one caller run at once; past it its items wait (never refused), even
while graders are free. Not thread-safe: the grader pool guards it with its lock, a worker's lanes are
single-threaded (asyncio).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["ANONYMOUS", "FairQueue", "Ticket"]

ANONYMOUS = "anonymous"  # the caller when auth is off, and of work that names none
T = TypeVar("T")


@dataclass(frozen=True)
class Ticket(Generic[T]):
    """An item taken to run; hand it back to :meth:`FairQueue.done` when it ends."""

    owner: str
    item: T
    started: float


class FairQueue(Generic[T]):
    def __init__(self, limit: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit  # items of one caller running at once (0: no limit)
        self._clock = clock
        self._waiting: dict[str, deque[T]] = {}
        self._running: Counter[str] = Counter()
        self._started_sum: dict[str, float] = {}  # start times of running items, summed: elapsed in O(1)
        self._used: dict[str, float] = {}  # grader seconds of finished items, per caller (kept when idle)
        self._served: dict[str, int] = {}  # when each caller last started an item (a turn counter)
        self._turn = 0
        self._floor = 0.0  # the least usage among busy callers when one was last busy (never decreases)

    def __len__(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    def put(self, owner: str, item: T) -> None:
        if not self._active(owner):  # (re)joining: level with the least-served busy caller, never below
            self._used[owner] = max(self._used.get(owner, 0.0), self._level())
        self._waiting.setdefault(owner, deque()).append(item)

    def pop(self) -> Ticket[T] | None:
        """The next item to start, marked running; None when nothing may start now."""
        ready = [o for o, q in self._waiting.items() if q and not (self.limit and self._running[o] >= self.limit)]
        if not ready:
            return None
        now = self._clock()
        owner = min(ready, key=lambda o: (self._usage(o, now), self._served.get(o, -1)))
        queue = self._waiting[owner]
        item = queue.popleft()
        if not queue:
            del self._waiting[owner]
        self._turn += 1
        self._served[owner] = self._turn
        self._running[owner] += 1
        self._started_sum[owner] = self._started_sum.get(owner, 0.0) + now
        return Ticket(owner, item, now)

    def done(self, ticket: Ticket[T]) -> None:
        """Charge the item's grader time to its caller."""
        owner = ticket.owner
        self._running[owner] -= 1
        self._started_sum[owner] -= ticket.started
        if not self._running[owner]:
            del self._running[owner], self._started_sum[owner]
        self._used[owner] = self._used.get(owner, 0.0) + max(0.0, self._clock() - ticket.started)
        if not self._active(owner):  # it leaves: who comes next starts no lower than where it left off
            self._floor = max(self._floor, min([self._used[owner], *self._busy()]))

    def drain(self) -> list[T]:
        """Forget (and return) every waiting item."""
        items = [item for queue in self._waiting.values() for item in queue]
        self._waiting.clear()
        return items

    def waiting_of(self, owner: str) -> int:
        return len(self._waiting.get(owner, ()))

    def _active(self, owner: str) -> bool:
        return bool(self._waiting.get(owner)) or self._running[owner] > 0

    def _usage(self, owner: str, now: float) -> float:
        return self._used[owner] + self._running[owner] * now - self._started_sum.get(owner, 0.0)

    def _busy(self) -> list[float]:
        now = self._clock()
        return [self._usage(o, now) for o in self._used if self._active(o)]

    def _level(self) -> float:
        return max(self._floor, min(self._busy(), default=self._floor))
