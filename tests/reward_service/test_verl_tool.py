"""verl's tool (reward_service/adapters/verl_tool.py) against a real service with a real sandbox, called the
way verl 0.9.1 calls it.

verl does not install here (see test_verl_adapter.py), so these tests make its calls. Loading:
``initialize_tools_from_config`` (``verl/tools/tool_registry.py``) reads the tool_config YAML, imports
``class_name`` and builds ``cls(config=<the config mapping>, tool_schema=<OpenAIFunctionToolSchema or
None>)``. Calling: ``ToolAgentLoop._call_tool`` (``verl/experimental/agent_loop/tool_agent_loop.py``), for
every single tool call: ``instance_id, _ = await tool.create(create_kwargs=...)``, then ``await
tool.execute(instance_id, json.loads(arguments), agent_data=agent_data)``, then, in ``finally``, ``await
tool.release(instance_id)``; ``agent_data`` is one trajectory's ``AgentData`` (``request_id``,
``extra_fields``, ...), dropped when the trajectory is done.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import re
import shutil

import httpx
import pytest
import yaml

from reward_service.adapters.verl_tool import SandboxSessionTool
from reward_service.client import RewardClient
from tests.conftest import ROOT, Service, need


@pytest.fixture(scope="module")
def sandbox_service():
    need(shutil.which("bwrap") is not None or shutil.which("docker") is not None, "no sandbox backend installed")
    svc = Service({"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "auto"})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


def live_sessions(url: str) -> int:
    [value] = re.findall(r"^reward_sessions_live (\S+)$", httpx.get(url + "/metrics", timeout=10).text, re.M)
    return int(float(value))


def readme_tool_config() -> dict:
    """The verl tool_config YAML the README documents."""
    [block] = [b for b in re.findall(r"```yaml\n(.*?)\n```", (ROOT / "README.md").read_text(), re.DOTALL)
               if "SandboxSessionTool" in b]
    return yaml.safe_load(block)


def initialize_tools_from_config(config: dict, url: str) -> list:
    """verl 0.9.1's loading, with the service URL pointed at the test's service."""
    tools = []
    for entry in config["tools"]:
        module_name, class_name = entry["class_name"].rsplit(".", 1)
        cls = getattr(importlib.import_module(module_name), class_name)
        assert entry["config"]["type"] == "native"
        tools.append(cls(config={**entry["config"], "service_url": url}, tool_schema=entry.get("tool_schema")))
    return tools


class AgentData:
    """The parts of verl's AgentData a tool may read: one per trajectory."""

    def __init__(self, request_id: str) -> None:
        self.request_id, self.messages, self.extra_fields = request_id, [], {}


async def call_tool(tool, arguments: str, agent_data) -> tuple:
    """``ToolAgentLoop._call_tool`` (verl 0.9.1) for a BaseTool: create, execute, release, every call."""
    instance_id = None
    try:
        instance_id, _ = await tool.create(create_kwargs={})
        return await tool.execute(instance_id, json.loads(arguments), agent_data=agent_data)
    finally:
        if instance_id:
            await tool.release(instance_id)


async def closed(tool) -> None:
    """After a trajectory's AgentData is dropped: its session's close, scheduled on this loop, done."""
    gc.collect()
    await asyncio.sleep(0)
    await asyncio.gather(*tool._closing)


def code(source: str) -> str:
    return json.dumps({"code": source})


@pytest.fixture
def tool(sandbox_service):
    [made] = initialize_tools_from_config(readme_tool_config(), sandbox_service.url)
    return made


def test_the_documented_config_loads_as_verl_loads_it(tool):
    assert tool.name == "python"
    schema = tool.get_openai_tool_schema().model_dump(exclude_unset=True, exclude_none=True)
    assert schema["function"]["parameters"]["required"] == ["code"]
    assert tool.timeout_s > 0 and tool.session_fields.get("ttl_s")


def test_a_trajectorys_state_persists_across_its_calls_and_ends_with_it(tool, sandbox_service):
    async def rollout():
        first, second = AgentData("a"), AgentData("b")
        one = await call_tool(tool, code("import math\nx = 41"), first)
        two = await call_tool(tool, code("print(x + 1)\nmath.floor(2.5)"), first)
        other = await call_tool(tool, code("x"), second)  # another trajectory: a session of its own
        live = live_sessions(sandbox_service.url)
        del first, second  # both trajectories are done: verl drops their AgentData
        await closed(tool)
        return one, two, other, live

    before = live_sessions(sandbox_service.url)
    one, two, other, live = asyncio.run(rollout())
    assert one[0].text == "(no output)" and one[1] == 0.0 and one[2]["status"] == "Finished"
    assert two[0].text == "42\n2"
    assert "NameError" in other[0].text and other[2]["status"] == "Error"
    assert live == before + 2
    assert live_sessions(sandbox_service.url) == before


def test_without_agent_data_the_session_is_the_instances(tool, sandbox_service):
    """BaseTool's own contract: create once per trajectory, execute, calc_reward, release at the end."""
    async def trajectory():
        instance, created = await tool.create("traj-1", create_kwargs={})
        await tool.execute(instance, {"code": "y = [1, 2]"})
        answer, reward, _ = await tool.execute(instance, {"code": "y.append(3); y"})
        live = live_sessions(sandbox_service.url)
        score = await tool.calc_reward(instance)
        await tool.release(instance)
        return instance, created, answer, reward, score, live

    before = live_sessions(sandbox_service.url)
    instance, created, answer, reward, score, live = asyncio.run(trajectory())
    assert instance == "traj-1" and not created.text
    assert (answer.text, reward, score) == ("[1, 2, 3]", 0.0, 0.0)
    assert live == before + 1 and live_sessions(sandbox_service.url) == before


def test_an_ended_session_is_said_and_the_next_call_starts_afresh(tool, sandbox_service):
    async def rollout():
        agent = AgentData("c")
        await call_tool(tool, code("z = 1"), agent)
        RewardClient(sandbox_service.url).delete_session(tool._trajectories[id(agent)].result())  # expiry, a crash
        ended = await call_tool(tool, code("z"), agent)
        again = await call_tool(tool, code("print('fresh')"), agent)
        del agent
        await closed(tool)
        return ended, again

    ended, again = asyncio.run(rollout())
    assert "session ended" in ended[0].text and ended[2]["status"] == "session_ended"
    assert again[0].text == "fresh"


def test_bad_arguments_and_an_unreachable_service_are_tool_responses(tool):
    down = SandboxSessionTool({"type": "native", "service_url": "http://127.0.0.1:9", "retries": 0}, None)

    async def calls():
        return (await call_tool(tool, json.dumps({"code": 5}), AgentData("d")),
                await call_tool(down, code("1"), AgentData("e")))

    bad, unreachable = asyncio.run(calls())
    assert "takes `code`, a string" in bad[0].text and bad[2]["status"] == "bad_arguments"
    assert unreachable[0].text.startswith("error: the sandbox is unavailable") and unreachable[1] == 0.0
    assert unreachable[2]["status"] == "sandbox_unavailable"


def test_parallel_calls_of_one_trajectory_share_one_session(tool, sandbox_service):
    """verl runs up to max_parallel_calls of a turn's calls at once (asyncio.gather)."""
    async def turn():
        agent = AgentData("f")
        await asyncio.gather(*(call_tool(tool, code(f"v{i} = {i}"), agent) for i in range(3)))
        total = await call_tool(tool, code("v0 + v1 + v2"), agent)
        live = live_sessions(sandbox_service.url)
        del agent
        await closed(tool)
        return total, live

    before = live_sessions(sandbox_service.url)
    total, live = asyncio.run(turn())
    assert total[0].text == "3" and live == before + 1
    assert live_sessions(sandbox_service.url) == before
