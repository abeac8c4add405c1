"""Backends for the sandbox tests: each test runs on Docker and on bubblewrap (a failure under CI if missing)."""

from __future__ import annotations

import pytest

from sandbox import SandboxUnavailable, get_backend
from tests.conftest import need


def _backend(name: str):
    try:
        return get_backend(name)
    except SandboxUnavailable as exc:
        need(False, f"{name} sandbox unavailable: {exc}")


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker),
                        pytest.param("bwrap", marks=pytest.mark.bwrap)])
def backend(request):
    return _backend(request.param)
