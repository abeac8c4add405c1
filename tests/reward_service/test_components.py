"""The component registry: a component is one entry, and one of the tests' own, registered from a module
nothing else names (tests/reward_service/_toy_component.py), grades over HTTP: in the grader processes and in
the service stage, embedded and through the Redis queue.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from pydantic import BaseModel

from reward_service import components
from reward_service.components import ComponentError, Options, register
from reward_service.components.format import FormatOptions
from tests.conftest import ROOT, Service, free_port

TOY = "tests.reward_service._toy_component"
ENV = {"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", "REWARD_LOG_FORMAT": "text"}
RECIPE = {"components": {"accuracy": {}, "exclaims": {"weight": 0.5, "options": {"mark": "!"}},
                         "prompt_words.short": {"weight": 2.0, "options": {"per": 4}}}}
ITEMS = [{"prompt": "What is two plus two?", "answer": "4", "completion": "<think>easy</think> It is \\boxed{4}!"},
         {"prompt": "Two and two?", "answer": "4", "completion": "<think>hmm</think> It is \\boxed{5}."}]


def score(url: str, recipe: dict = RECIPE) -> httpx.Response:
    return httpx.post(url + "/score", json={"items": ITEMS, "recipe": recipe}, timeout=90)


def check_graded(results: list[dict]) -> tuple[int, int]:
    """The toy's grades in both results; (pid of the grader stage, pid of the service stage)."""
    loud, quiet = results
    assert loud["components"] == {"accuracy": 1.0, "exclaims": 1.0, "prompt_words.short": 1.0}, loud
    assert quiet["components"] == {"accuracy": 0.0, "exclaims": 0.0, "prompt_words.short": 0.75}, quiet
    assert (loud["reward"], quiet["reward"]) == (3.5, 1.5)
    assert quiet["details"]["prompt_words.short"]["words"] == 3
    return loud["details"]["exclaims"]["pid"], loud["details"]["prompt_words.short"]["pid"]


@pytest.fixture(scope="module")
def toy_service():
    svc = Service({**ENV, "REWARD_COMPONENT_MODULES": TOY})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


def test_a_component_from_a_module_of_its_own_grades_over_http(toy_service):
    response = score(toy_service.url)
    assert response.status_code == 200, response.text
    graded_in, served_in = check_graded(response.json()["results"])
    assert served_in == toy_service.proc.pid != graded_in  # the grader stage ran in a grader process


def test_a_service_without_the_module_does_not_know_the_component(service):
    response = score(service.url)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "recipe", "components", "exclaims"]
    assert error["msg"].startswith("unknown component 'exclaims': one of accuracy, format, tag_count, language,")
    assert "reward_model.<label>" in error["msg"]


@pytest.mark.parametrize("name", ["exclaims.loud", TOY, f"{TOY}.exclaims"])
def test_a_request_names_components_never_modules(toy_service, name):
    response = score(toy_service.url, {"components": {name: {}}})
    assert response.status_code == 422 and f"unknown component {name!r}" in response.text


def test_a_module_that_cannot_be_imported_stops_the_start_with_one_line():
    done = subprocess.run([sys.executable, "-m", "reward_service", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "REWARD_COMPONENT_MODULES": "tests.reward_service._no_such_module"})
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("reward-service: component module 'tests.reward_service._no_such_module' cannot "
                                  "be imported: ModuleNotFoundError"), done.stderr


def test_an_entry_is_checked_when_registered():
    class Loose(BaseModel):  # not frozen: a recipe is a cache key
        n: int = 1

    def grade(ctx, options):
        return None

    with pytest.raises(ComponentError, match="frozen pydantic model"):
        register("loose", Loose, grade=grade)
    with pytest.raises(ComponentError, match="a grade function, a serve function, or both"):
        register("idle", Options)
    with pytest.raises(ComponentError, match="registered twice"):
        register("format", FormatOptions, grade=grade)
    with pytest.raises(ComponentError, match="lower-case letters"):
        register("Bad.Name", Options, grade=grade)
    assert components.get("format").grade is not grade and components.find("loose") is None


def test_every_component_is_one_entry():
    stages = {kind.name: kind.stages for kind in components.kinds()}
    assert stages == {"accuracy": ("grader", "service"), "format": ("grader",), "tag_count": ("grader",),
                      "language": ("grader",), "overlong": ("grader",), "cosine": ("grader",),
                      "repetition": ("grader",), "llm_judge": ("service",), "reward_model": ("service",)}
    assert [kind.name for kind in components.kinds() if kind.labelled] == ["llm_judge", "reward_model"]


# -- through the Redis queue --------------------------------------------------------------------------------

def worker(url: str, log, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reward_service", "worker", "--redis-url", url],
                            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def workers_alive(api: Service, n: int) -> None:
    deadline = time.monotonic() + 120
    while httpx.get(api.url + "/readyz", timeout=10).json().get("workers") != n:
        assert time.monotonic() < deadline, f"not {n} live worker(s) within 120 s:\n{api.logs()}"
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=60)


@pytest.mark.redis
@pytest.mark.slow
def test_through_the_queue_a_worker_grades_it_and_one_without_the_module_says_why(redis_server, tmp_path):
    env = {**ENV, "REWARD_SCORE_TIMEOUT_S": "60"}
    api = Service({**env, "REWARD_COMPONENT_MODULES": TOY}, ("--redis-url", redis_server.url))
    with_module = worker(redis_server.url, open(tmp_path / "with.log", "w"), {**env, "REWARD_COMPONENT_MODULES": TOY})
    try:
        api.wait_ready()
        workers_alive(api, 1)
        response = score(api.url)
        assert response.status_code == 200, response.text
        graded_in, served_in = check_graded(response.json()["results"])
        assert served_in == with_module.pid != graded_in  # the worker's service stage, its grader process
        stop(with_module)
        without = worker(redis_server.url, open(tmp_path / "without.log", "w"), env)
        try:
            workers_alive(api, 1)
            results = score(api.url).json()["results"]
        finally:
            stop(without)
    finally:
        if with_module.poll() is None:
            stop(with_module)
        api.stop()
    assert [r["status"] for r in results] == ["error", "error"]
    assert results[0]["error"].startswith("this worker cannot grade the recipe: unknown component 'exclaims'")
