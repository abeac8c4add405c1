"""Trainer fixtures: real reward services on loopback (the embedded default) and tiny run configs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Service
from trainer.config import RunConfig, load_config

SERVICE_ENV = {"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", "REWARD_LOG_FORMAT": "text"}


def start_service(**env: str) -> Service:
    svc = Service({**SERVICE_ENV, **env})
    try:
        svc.wait_ready()
    except Exception:
        svc.stop()
        raise
    return svc


@pytest.fixture
def fresh_service() -> Iterator[Service]:
    """A service of this test's own (its counters start at zero; the test may stop it)."""
    svc = start_service()
    try:
        yield svc
    finally:
        if svc.proc.poll() is None:
            svc.stop()


@pytest.fixture(scope="module")
def module_service() -> Iterator[Service]:
    svc = start_service()
    try:
        yield svc
    finally:
        svc.stop()


def scored_counts(url: str) -> tuple[int, int]:
    """(POST /score requests answered 200, items graded) from the service's Prometheus ``/metrics``."""
    text = httpx.get(url + "/metrics", timeout=10).text
    requests = sum(float(v) for v in re.findall(
        r'^reward_request_seconds_count\{method="POST",route="/score",status="200"\} (\S+)$', text, re.M))
    items = sum(float(v) for v in re.findall(r"^reward_items_graded_total\{[^}]*\} (\S+)$", text, re.M))
    return int(requests), int(items)


ROOT = Path(__file__).resolve().parents[2]
TINY_CPU = ROOT / "trainer" / "configs" / "tiny-cpu.yaml"


def tiny_config(run_dir: Path, url: str, *, steps: int) -> RunConfig:
    """The shipped CPU demo (trainer/configs/tiny-cpu.yaml: the tiny model learns to close the prefilled
    <think> once, from the service's tag_count), seeded, pointed at ``url``; fast retries for outages."""
    return load_config(TINY_CPU, [
        f"output_dir={run_dir}", f"service.url={url}", "service.retries=1", "service.backoff_s=0.05",
        f"data.source={ROOT / 'trainer' / 'shipped_data' / 'format_demo.jsonl'}", f"training.max_steps={steps}",
        "training.disable_tqdm=true", "sample.batch_prompts=4"])
