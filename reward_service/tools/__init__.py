"""The sandbox as a tool: SandboxFusion's ``/run_code`` and ``/run_jupyter``, and stateful Python sessions.

The routes (``api/routes/tools.py``, ``api/routes/sessions.py``) hold no sandbox logic: they call
:class:`Tools`, which the app makes in its lifespan and closes at shutdown. Blocking sandbox calls
(:mod:`sandbox.tool`) run in :class:`~reward_service.tools.execution.ToolRunner`'s threads.
"""

from __future__ import annotations

import secrets

from reward_service.settings import Settings
from reward_service.tools.execution import ToolRunner
from reward_service.tools.sessions import LocalSessions, SessionStore

__all__ = ["LocalSessions", "SessionStore", "ToolRunner", "Tools"]


class Tools:
    """What this API process runs for tool calls. ``replica``: a random id of this process, carried by its
    session ids (a call that lands on another replica is told so) and sent as ``executor_pod_name``."""

    def __init__(self, settings: Settings, replica: str | None = None) -> None:
        self.replica = replica or secrets.token_hex(4)  # a worker's tool host passes its name
        self.runner = ToolRunner(settings, pod=self.replica)
        self.sessions: SessionStore = LocalSessions(self.runner, settings, self.replica)
        self._local = self.sessions if isinstance(self.sessions, LocalSessions) else None

    async def session_counts(self) -> tuple[int, dict[str, int]]:
        """Live sessions and those ended by how, for /readyz and /metrics (RoutedTools sums the workers')."""
        return self.sessions.live(), self.sessions.ended()

    async def aclose(self) -> None:
        if self._local is not None:
            await self._local.aclose()
        self.runner.close()
