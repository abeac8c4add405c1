"""Fair share of the graders between callers: the queue's order (a clock we step), a Redis worker's lanes,
then the grader pool with real processes, then two API keys over real HTTP on the embedded default (code
items in the sandbox)."""

from __future__ import annotations

import asyncio
import shutil
import time

import httpx
import pytest

from reward_service.pool import ProcessPool, WorkerCrashed, submitted
from reward_service.queue.chunks import Chunk
from reward_service.queue.entries import Held
from reward_service.queue.fair import FairQueue
from reward_service.queue.lanes import Lanes, Work
from reward_service.recipes import resolve
from reward_service.schemas import ScoreItem
from tests.conftest import Service, need

JOBS = "tests.reward_service._pool_jobs"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run_all(queue: FairQueue[str], clock: Clock, cost: dict[str, float]) -> list[str]:
    """Start and finish items one at a time (one grader), each taking its owner's cost; the order run."""
    order = []
    while (ticket := queue.pop()) is not None:
        order.append(ticket.item)
        clock.now += cost[ticket.owner]
        queue.done(ticket)
    return order


# -- the order ---------------------------------------------------------------------------------------------

def test_a_caller_keeps_its_own_order_and_a_newcomer_goes_first():
    queue: FairQueue[str] = FairQueue(clock=(clock := Clock()))
    for i in range(4):
        queue.put("a", f"a{i}")
    first = queue.pop()
    assert first is not None and first.item == "a0"
    clock.now += 5.0
    queue.done(first)
    queue.put("b", "b0")  # arrives behind a's backlog; a has had 5 s of grader time, b none
    assert run_all(queue, clock, {"a": 5.0, "b": 0.01}) == ["b0", "a1", "a2", "a3"]


def test_graders_are_shared_by_time_not_by_item_count():
    # a's items take 1 s, b's 0.1 s: b gets about ten items for each of a's, and neither starves.
    queue: FairQueue[str] = FairQueue(clock=(clock := Clock()))
    for i in range(20):
        queue.put("a", f"a{i}")
        queue.put("b", f"b{i}")
    order = run_all(queue, clock, {"a": 1.0, "b": 0.1})
    first_half = order[:len(order) // 2]
    assert sum(o.startswith("b") for o in first_half) >= 15 and any(o.startswith("a") for o in first_half)
    assert [o for o in order if o.startswith("a")] == [f"a{i}" for i in range(20)]


def test_running_items_count_against_their_caller_before_they_finish():
    queue: FairQueue[str] = FairQueue(clock=(clock := Clock()))
    for i in range(3):
        queue.put("a", f"a{i}")
    running = queue.pop()  # a0 runs for a long time, not finished yet
    clock.now += 30.0
    queue.put("b", "b0")
    queue.put("b", "b1")
    nxt = queue.pop()
    assert running is not None and nxt is not None and nxt.item == "b0"


def test_time_alone_is_no_debt():
    queue: FairQueue[str] = FairQueue(clock=(clock := Clock()))
    queue.put("a", "a0")
    assert run_all(queue, clock, {"a": 100.0}) == ["a0"]  # a alone for 100 s: nobody else wanted the graders
    for i in range(3):
        queue.put("b", f"b{i}")
    queue.put("a", "a1")  # a is level with b, not 100 s behind it
    assert run_all(queue, clock, {"a": 1.0, "b": 1.0}) == ["b0", "a1", "b1", "b2"]


def test_a_newcomer_banks_no_credit_for_its_time_away():
    queue: FairQueue[str] = FairQueue(clock=(clock := Clock()))
    for i in range(4):
        queue.put("a", f"a{i}")
    first = queue.pop()
    clock.now += 50.0
    queue.done(first)  # type: ignore[arg-type]
    for i in range(3):
        queue.put("b", f"b{i}")  # b joins level with a's 50 s, not 50 s ahead of it
    assert run_all(queue, clock, {"a": 1.0, "b": 1.0}) == ["b0", "a1", "b1", "a2", "b2", "a3"]


def test_a_caller_at_its_limit_waits_while_others_start():
    queue: FairQueue[str] = FairQueue(limit=1, clock=Clock())
    for i in range(3):
        queue.put("a", f"a{i}")
    queue.put("b", "b0")
    started = [queue.pop(), queue.pop()]
    assert [t.item for t in started if t] == ["a0", "b0"] and queue.pop() is None  # a1 waits, not refused
    queue.done(started[0])  # type: ignore[arg-type]
    nxt = queue.pop()
    assert nxt is not None and nxt.item == "a1" and len(queue) == 1


# -- a Redis worker's lanes -------------------------------------------------------------------------------

def held(owner: str, n: int, job: str = "job") -> list[Work]:
    rows = tuple({"completion": f"{owner}{i}"} for i in range(n))
    entry = Held("reward:chunks", f"{owner}-0", Chunk(job, 0, "{}", rows, 0, owner=owner), set(range(n)))
    return [Work(entry, i, ScoreItem(completion=f"{owner}{i}"), resolve("accuracy", ""), None) for i in range(n)]


async def test_a_workers_lanes_start_held_items_fairly_across_owners():
    lanes = Lanes({"graders": 1, "code": 1})
    lanes.add(held("a", 3) + held("b", 1))
    order = []
    for _ in range(4):
        work = await lanes.take("graders")
        assert work is not None
        order.append(f"{work.owner}{work.index}")
        lanes.done(work)
    assert order == ["a0", "b0", "a1", "a2"]  # arrival order would have been a0 a1 a2 b0


async def test_a_suspect_still_runs_alone():
    lanes = Lanes({"graders": 2, "code": 1})
    suspect = held("b", 1)[0]
    suspect.suspect = True
    lanes.add(held("a", 2) + [suspect])
    first = await lanes.take("graders")
    assert first is suspect  # the worker is empty: it starts, alone
    second = asyncio.ensure_future(lanes.take("graders"))
    await asyncio.sleep(0)
    assert not second.done()
    lanes.done(suspect)
    assert (await second).owner == "a"


def test_a_chunk_carries_its_owner_through_the_stream_and_a_hand_back():
    chunk = Chunk("job", 0, "{}", ({"completion": "x"}, {"completion": "y"}), 0, owner="0123456789abcdef")
    again = Chunk.from_fields(chunk.to_fields())
    assert again.owner == "0123456789abcdef" and again.only([1]).owner == "0123456789abcdef"
    fields = chunk.to_fields()
    del fields["owner"]  # an entry queued before owners were carried
    assert Chunk.from_fields(fields).owner == "anonymous"


# -- the grader pool, real processes ----------------------------------------------------------------------

async def test_a_quick_job_of_another_caller_goes_before_a_backlog():
    pool = ProcessPool(1)
    try:
        finished: list[str] = []

        async def job(owner: str, name: str, seconds: float) -> None:
            await pool.arun(f"{JOBS}.sleep_then", (seconds, name), 30, owner=owner)
            finished.append(name)

        backlog = [asyncio.ensure_future(job("a", f"a{i}", 0.3)) for i in range(5)]
        while pool.queued("a") != 4:  # the first of a's has started, four wait
            await asyncio.sleep(0.01)
        await job("b", "b0", 0)
        await asyncio.gather(*backlog)
        assert finished.index("b0") <= 1, finished  # FIFO would answer it last
        assert [f for f in finished if f != "b0"] == [f"a{i}" for i in range(5)]
    finally:
        pool.close()


async def test_a_caller_over_its_concurrency_waits_though_a_grader_is_free():
    pool = ProcessPool(2, per_caller_limit=1)
    try:
        futures: list = []
        token = submitted.set(futures)
        first = asyncio.ensure_future(pool.arun(f"{JOBS}.sleep_then", (1.0, 1), 30, owner="a"))
        second = asyncio.ensure_future(pool.arun(f"{JOBS}.sleep_then", (0, 2), 30, owner="a"))
        submitted.reset(token)
        while len(futures) < 2 or not futures[0].running():
            await asyncio.sleep(0.01)
        other = await pool.arun(f"{JOBS}.echo", ("b",), 30, owner="b")  # b takes the free grader at once
        assert other == "b" and not first.done() and pool.queued("a") == 1
        assert not (futures[1].running() or futures[1].done())
        assert await asyncio.gather(first, second) == [1, 2]  # a's second ran after, it was not refused
    finally:
        pool.close()


async def test_a_job_cancelled_while_queued_never_runs():
    pool = ProcessPool(1)
    try:
        futures: list = []
        token = submitted.set(futures)
        busy = asyncio.ensure_future(pool.arun(f"{JOBS}.sleep_then", (0.5, "done"), 30))
        doomed = asyncio.ensure_future(pool.arun(f"{JOBS}.die", (), 30))  # would kill its grader if it ran
        submitted.reset(token)
        while len(futures) < 2 or not futures[0].running():
            await asyncio.sleep(0.01)
        doomed.cancel()
        replaced = pool.replaced
        assert await busy == "done"
        assert await pool.arun(f"{JOBS}.echo", ("after",), 30) == "after"
        assert pool.replaced == replaced and doomed.cancelled()
        with pytest.raises(asyncio.CancelledError):
            await doomed
    finally:
        pool.close()


def test_closing_the_pool_cancels_what_waits():
    pool = ProcessPool(1)

    async def scenario() -> list:
        running = asyncio.ensure_future(pool.arun(f"{JOBS}.sleep_then", (0.5, 1), 30))
        waiting = asyncio.ensure_future(pool.arun(f"{JOBS}.echo", (2,), 30))
        await asyncio.sleep(0.1)
        await asyncio.to_thread(pool.close)
        return await asyncio.gather(running, waiting, return_exceptions=True)

    outcomes = asyncio.run(scenario())
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert outcomes[0] == 1 or isinstance(outcomes[0], WorkerCrashed)


# -- two API keys over HTTP --------------------------------------------------------------------------------

KEYS = {"a": "team-a-key", "b": "team-b-key", "c": "team-c-key", "d": "team-d-key"}
SUM = {"inputs": ["1 2\n"], "outputs": ["3\n"]}


def code_item(i: int, seconds: float) -> dict:
    code = f"import time\ntime.sleep({seconds})  # item {i}\na, b = map(int, input().split())\nprint(a + b)"
    return {"id": i, "task": "code", "language": "python", "tests": SUM, "limits": {"time_limit_s": 10},
            "completion": f"<think>x</think>\n```python\n{code}\n```"}


@pytest.fixture(scope="module")
def tenants():
    need(shutil.which("bwrap") is not None or shutil.which("docker") is not None, "no sandbox backend installed")
    svc = Service({"REWARD_API_KEYS": ",".join(KEYS.values()), "REWARD_WORKERS": "1", "REWARD_CODE_WORKERS": "2",
                   "REWARD_SANDBOX_BACKEND": "auto", "REWARD_MEMORY_JOBS_MAX_ITEMS": "40"})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[who]}"}


def test_another_key_is_answered_while_one_keys_slow_batch_runs(tenants):
    def post(who: str, path: str, items: list[dict]) -> httpx.Response:
        return httpx.post(tenants.url + path, json={"items": items, "recipe": "accuracy"}, headers=auth(who),
                          timeout=300)

    assert post("d", "/score", [code_item(-1, 0)]).json()["results"][0]["reward"] == 1.0  # the sandbox is up
    jobs = [post("a", "/jobs", [code_item(i, 1.0)]).json()["url"] for i in range(10)]  # a: 10 slow items
    answer = post("b", "/score", [code_item(99, 0)]).json()["results"][0]  # then b: one quick item
    views = [httpx.get(tenants.url + job, headers=auth("a"), timeout=30).json() for job in jobs]
    assert answer["reward"] == 1.0, answer
    # In one queue in arrival order b's item ran after nine of a's at least (two graders); with a fair share
    # it ran once a grader was free.
    assert sum(v["state"] == "done" for v in views) <= len(jobs) - 4, [v["state"] for v in views]
    for job in jobs:  # a's items waited their turn; none was refused
        while (view := httpx.get(tenants.url + job, headers=auth("a"), timeout=30).json())["state"] != "done":
            time.sleep(0.2)
        assert view["counts"] == {"ok": 1}


def test_one_key_cannot_fill_the_jobs_in_memory(tenants):
    items = [{"id": i, "task": "none", "completion": "<think>a</think> <answer>b</answer>"} for i in range(10)]
    body = {"items": items, "recipe": "r1-zero"}
    assert httpx.post(tenants.url + "/jobs", json=body, headers=auth("c"), timeout=30).status_code == 202
    over = httpx.post(tenants.url + "/jobs", json={**body, "items": items[:1]}, headers=auth("c"), timeout=30)
    assert over.status_code == 429 and "this API key" in over.json()["detail"] and "Retry-After" in over.headers
    # Its share is a quarter of 40 items; the store as a whole has room, and another key still gets in.
    assert httpx.post(tenants.url + "/jobs", json=body, headers=auth("d"), timeout=30).status_code == 202


def test_with_auth_off_the_one_caller_may_fill_the_jobs_in_memory():
    from tests.reward_service.test_auth import ITEM, RECIPE, client
    with client(memory_jobs_max_items=8) as c:  # a quarter would be 2 items
        assert c.post("/jobs", json={"items": [ITEM] * 8, "recipe": RECIPE}).status_code == 202
        assert c.post("/jobs", json={"items": [ITEM], "recipe": RECIPE}).status_code == 429  # the store is full
