"""A worker's grader lanes: which item starts next, and when the worker may claim more.

A worker has two ``graders`` lanes per grader process, for every item that is not code (math, countdown,
format-only...: while one lane hands its answer on and picks its next item, the other's item is already
queued at the grader pool, which so never waits for the event loop), and one ``code`` lane per concurrent
code item (settings ``workers`` and ``code_workers``, the engine's two pools). Items of the chunks it holds wait here for a free lane of
their kind, in order within an owner (the API key that sent them) and fairly across owners: a free lane
starts the next item of the owner whose items have had the least lane time (:mod:`reward_service.queue.fair`).
Two rules follow from what can go wrong, not from speed:

* **claim only what can start now**: the worker reads another chunk only while nothing waits here and a
  lane is free. Work it cannot start stays in Redis, where another worker takes it, instead of sitting
  behind this worker's busy graders (and dying with it if it is killed).
* **suspects run alone**: an item that was in flight when workers died ``max_deliveries - 1`` times gets its
  last try with the worker to itself, so that a crash then is its own and nobody else's: while one waits,
  nothing new starts, and it starts once the worker is empty. Every other item, a taken-over chunk's
  included, is graded side by side as usual.

Draining (on SIGTERM) ends every wait: nothing new starts, and :meth:`Lanes.drain` returns what was waiting
so the worker can hand it back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass
from typing import Any

from reward_service.queue.fair import FairQueue, Ticket
from reward_service.recipes import Recipe
from reward_service.schemas import ScoreItem


@dataclass(eq=False)
class Work:
    """One item of a held chunk, waiting for or running in a lane."""

    held: Any           # the worker's record of the chunk this item came in
    index: int          # the item's index in its job
    item: ScoreItem
    recipe: Recipe      # its chunk's, resolved once by the worker
    cache_key: str | None  # its key in the shared result cache (None: that cache is off)
    tries: int = 0      # attempts charged so far (a suspect's do not count the run it waits for)
    suspect: bool = False
    charged: bool = False  # this worker charged it an attempt (taken back if it hands the item back unstarted)

    @property
    def kind(self) -> str:
        """The lanes it waits for: ``code``, or ``graders`` (everything else)."""
        return "code" if self.item.task == "code" else "graders"

    @property
    def owner(self) -> str:
        return str(self.held.chunk.owner)


class Lanes:
    """Single-threaded (asyncio) bookkeeping, so no lock: a lane with nothing to start, or the claim loop
    waiting for room, parks a future; a change wakes only those it may concern."""

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = sizes
        self._queues: dict[str, FairQueue[Work]] = {kind: FairQueue() for kind in sizes}
        self._suspects: dict[str, deque[Work]] = {kind: deque() for kind in sizes}
        self._tickets: dict[int, Ticket[Work]] = {}  # id(work) -> its ticket, while it runs
        self._running = dict.fromkeys(sizes, 0)
        self._alone = False  # a suspect is running
        self._parked: dict[str, list[asyncio.Future[None]]] = {kind: [] for kind in (*sizes, "room")}
        self.draining = False

    def waiting(self) -> int:
        return sum(len(q) for q in self._queues.values()) + sum(len(q) for q in self._suspects.values())

    def running(self) -> int:
        return sum(self._running.values())

    def has_room(self) -> bool:
        """May the worker claim another chunk now?"""
        return not self.draining and not self.waiting() and self.running() < sum(self.sizes.values())

    def add(self, works: list[Work]) -> None:
        for work in works:
            if work.suspect:
                self._suspects[work.kind].append(work)
            else:
                self._queues[work.kind].put(work.owner, work)
        for kind in {work.kind for work in works}:
            self._wake(kind, len(self._queues[kind]) + len(self._suspects[kind]))

    def _next(self, kind: str) -> Work | None:
        """The next item a lane of ``kind`` may start at once, if any."""
        if self.draining or self._alone:
            return None
        if any(self._suspects.values()):  # a suspect waits for the worker to empty: start nothing new meanwhile
            if self.running() or not self._suspects[kind]:
                return None
            self._alone = True
            self._running[kind] += 1
            return self._suspects[kind].popleft()
        ticket = self._queues[kind].pop()
        if ticket is None:
            return None
        self._tickets[id(ticket.item)] = ticket
        self._running[kind] += 1
        return ticket.item

    async def take(self, kind: str) -> Work | None:
        """Wait for an item a lane of ``kind`` may start; None once draining."""
        while not self.draining:
            work = self._next(kind)
            if work is not None:
                return work
            await self._park(kind)
        return None

    def done(self, work: Work) -> None:
        self._running[work.kind] -= 1
        ticket = self._tickets.pop(id(work), None)
        if ticket is not None:
            self._queues[work.kind].done(ticket)  # its lane time, charged to its owner
        if work.suspect or not self.running():  # a suspect may start now, or everyone may go on
            self._alone = False
            for kind in self.sizes:
                self._wake(kind)
        elif self._queues[work.kind]:
            self._wake(work.kind, 1)
        if self.has_room():
            self._wake("room")

    async def wait_for_room(self, timeout: float) -> None:
        if not self.has_room():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._park("room"), timeout)

    def drain(self) -> list[Work]:
        """Stop starting items; return (and forget) every item still waiting."""
        self.draining = True
        waiting = [work for queue in self._queues.values() for work in queue.drain()]
        for suspects in self._suspects.values():
            waiting += suspects
            suspects.clear()
        for kind in self._parked:
            self._wake(kind)
        return waiting

    async def _park(self, kind: str) -> None:
        future = asyncio.get_running_loop().create_future()
        self._parked[kind].append(future)
        try:
            await future
        finally:
            if future in self._parked[kind]:
                self._parked[kind].remove(future)

    def _wake(self, kind: str, n: int | None = None) -> None:
        parked = self._parked[kind]
        woken, self._parked[kind] = (parked, []) if n is None else (parked[:n], parked[n:])
        for future in woken:
            if not future.done():
                future.set_result(None)
