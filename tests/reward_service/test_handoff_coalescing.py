"""Identical items in flight at once are graded once; one waiter giving up must not take the work from the
others (the engine owns the shared work, not the first request that asked for it)."""

from __future__ import annotations

import asyncio

import pytest

from reward_service.engine import GradingEngine
from reward_service.pool import ProcessPool
from reward_service.recipes import resolve
from reward_service.schemas import ScoreItem, Status
from reward_service.settings import Settings
from tests.reward_service import _fault_worker

SLOW = "<think>SLEEP=1.5 thinking</think> <answer>\\boxed{7}</answer>"  # the grader holds it 1.5 s


@pytest.fixture
async def engine(monkeypatch):
    arun = ProcessPool.arun

    async def redirected(self, fn, args, timeout, **kw):
        return await arun(self, _fault_worker.redirect(fn), args, timeout, **kw)

    monkeypatch.setattr(ProcessPool, "arun", redirected)
    engine = GradingEngine(Settings(workers=1, sandbox_backend="none"))
    await engine.start()
    try:
        yield engine
    finally:
        await engine.aclose()


async def test_a_cancelled_request_does_not_cancel_the_work_another_shares(engine):
    recipe = resolve("accuracy", "")
    first = asyncio.create_task(engine.score([ScoreItem(id="first", completion=SLOW, answer="7")], recipe))
    await asyncio.sleep(0.3)  # the first request is grading the item
    second = asyncio.create_task(engine.score([ScoreItem(id="second", completion=SLOW, answer="7")], recipe))
    await asyncio.sleep(0.3)  # the second waits on the same work
    first.cancel()  # its client went away
    [result] = await asyncio.wait_for(second, 30)
    assert (result.id, result.status, result.reward) == ("second", Status.ok, 1.0)
    with pytest.raises(asyncio.CancelledError):
        await first
    # And the work, finished for nobody in particular, still fills the caches.
    [again] = await engine.score([ScoreItem(id="third", completion=SLOW, answer="7")], recipe)
    assert again.status is Status.ok and again.details.get("cached") is True
