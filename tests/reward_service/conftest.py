"""Fixtures the service's test modules share."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import Service, need


@pytest.fixture(scope="module")
def code_service():
    """The service grading code items in the sandbox (auto: Docker here, bwrap without it)."""
    need(shutil.which("bwrap") is not None or shutil.which("docker") is not None, "no sandbox backend installed")
    svc = Service({"REWARD_WORKERS": "1", "REWARD_CODE_WORKERS": "2", "REWARD_SANDBOX_BACKEND": "auto"})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()
