"""The Python client of the reward service (httpx), for trainers and eval teams.

Both clients share one policy: batches larger than ``max_batch`` are split into requests (results come back
in order); connect errors, timeouts, 429 and 5xx are retried with exponential backoff (a ``Retry-After``
header is honoured); anything else (422, 413, 401) is raised at once as :class:`RewardServiceError`, since
sending it again cannot help.

The sandbox as a tool: ``run_code`` (SandboxFusion's ``/run_code``; its answer as a dict) and sessions
(``create_session``, ``run_in_session``, ``delete_session``). A session call changes state, so it is sent
again only when it surely did not run: the connection never opened, or the answer was 429 or 503; a session
that ended is a :class:`RewardServiceError` with ``status_code`` 410 (404 once it is forgotten).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from reward_service.schemas import ItemResult, RecipeSpec, ScoreItem

__all__ = ["AsyncRewardClient", "RewardClient", "RewardServiceError"]

_RETRY_STATUS = {429, 500, 502, 503, 504}
_RETRY_EXC = (httpx.TransportError,)  # connect errors, read timeouts, dropped connections
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)  # the request never left
_REFUSED = {429, 503}  # answered before anything ran: safe to send again even when it changes state
_GONE = frozenset({404, 410})  # deleting a session that is gone already is done


class RewardServiceError(Exception):
    """A request that failed for good (after retries, or a status that retrying cannot fix); ``status_code``
    is the service's answer, None when it could not be reached. (The service's own exceptions, mapped to
    those status codes, are :mod:`reward_service.errors`.)"""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class _Policy:
    """What both clients share: URL, headers, chunking, retry decisions."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float, retries: int, backoff: float,
                 max_batch: int) -> None:
        if max_batch < 1 or retries < 0:
            raise ValueError("max_batch must be >= 1 and retries >= 0")
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self.retries = retries
        self.backoff = backoff
        self.max_batch = max_batch

    def bodies(self, items: Sequence[ScoreItem | dict[str, Any]],
               recipe: str | RecipeSpec | dict[str, Any] | None) -> Iterator[dict[str, Any]]:
        spec = recipe.model_dump(mode="json", exclude_none=True) if isinstance(recipe, RecipeSpec) else recipe
        rows = [i.model_dump(mode="json", exclude_none=True) if isinstance(i, ScoreItem) else i for i in items]
        for start in range(0, len(rows), self.max_batch):
            body: dict[str, Any] = {"items": rows[start:start + self.max_batch]}
            if spec is not None:
                body["recipe"] = spec
            yield body

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.replace(".", "", 1).isdigit():
            return float(retry_after)
        return self.backoff * (2 ** attempt)

    def outcome(self, attempt: int, response: httpx.Response | None, exc: Exception | None, *,
                once: bool = False, fine: frozenset[int] = frozenset()) -> bool:
        """True to retry; raises when giving up; False when ``response`` is a success (or in ``fine``).
        ``once``: the call changes state, so retry only what surely did not run."""
        if exc is None and response is not None and (response.is_success or response.status_code in fine):
            return False
        if once:
            retryable = isinstance(exc, _NEVER_SENT) or (response is not None and response.status_code in _REFUSED)
        else:
            retryable = exc is not None or (response is not None and response.status_code in _RETRY_STATUS)
        if retryable and attempt < self.retries:
            return True
        if exc is not None:
            raise RewardServiceError(f"reward service unreachable after {attempt + 1} attempts: {exc!r}") from exc
        assert response is not None
        raise RewardServiceError(f"reward service answered {response.status_code}: {response.text[:500]}",
                                 status_code=response.status_code)

    @staticmethod
    def results(response: httpx.Response) -> list[ItemResult]:
        return [ItemResult.model_validate(r) for r in response.json()["results"]]

    @staticmethod
    def tool_body(fields: dict[str, Any], **given: Any) -> dict[str, Any]:
        """A tool request's JSON: ``files`` given as bytes are base64-encoded (as the wire wants them)."""
        body = {**given, **fields}
        if isinstance(body.get("files"), dict):
            body["files"] = {path: base64.b64encode(data).decode("ascii") if isinstance(data, bytes) else data
                             for path, data in body["files"].items()}
        return body

    @staticmethod
    def session_path(session_id: str, tail: str = "") -> str:
        return f"/sessions/{quote(session_id, safe='')}{tail}"


class RewardClient:
    """Blocking client. ``with RewardClient(url) as c: c.score(items, recipe="r1-zero")``."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", *, api_key: str | None = None,
                 timeout: float = 120.0, retries: int = 3, backoff: float = 0.5, max_batch: int = 512,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._policy = _Policy(base_url, api_key, timeout, retries, backoff, max_batch)
        self._http = httpx.Client(base_url=self._policy.base_url, headers=self._policy.headers,
                                  timeout=self._policy.timeout, transport=transport)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, *, once: bool = False,
                 fine: frozenset[int] = frozenset()) -> httpx.Response:
        attempt = 0
        while True:
            response, error = None, None
            try:
                response = self._http.request(method, path, json=body)
            except _RETRY_EXC as exc:
                error = exc
            if not self._policy.outcome(attempt, response, error, once=once, fine=fine):
                assert response is not None
                return response
            time.sleep(self._policy.delay(attempt, response))
            attempt += 1

    def score(self, items: Sequence[ScoreItem | dict[str, Any]],
              recipe: str | RecipeSpec | dict[str, Any] | None = None) -> list[ItemResult]:
        out: list[ItemResult] = []
        for body in self._policy.bodies(items, recipe):
            out.extend(self._policy.results(self._request("POST", "/score", body)))
        return out

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/healthz").json()

    # -- the sandbox as a tool ----------------------------------------------------------------------------

    def run_code(self, code: str, language: str = "python", **fields: Any) -> dict[str, Any]:
        """SandboxFusion's ``/run_code`` (``stdin``, ``run_timeout``, ``memory_limit_MB``, ``files``,
        ``fetch_files``...): its answer, ``status`` Success / Failed / SandboxError."""
        return self._request("POST", "/run_code", self._policy.tool_body(fields, code=code, language=language)).json()

    def create_session(self, language: str = "python", **fields: Any) -> str:
        """A new session's id (``limits``, ``ttl_s``, ``files``)."""
        body = self._policy.tool_body(fields, language=language)
        return self._request("POST", "/sessions", body, once=True).json()["session_id"]

    def run_in_session(self, session_id: str, code: str, **fields: Any) -> dict[str, Any]:
        """``{status, stdout, stderr, display, error, execution_time, truncated, alive, expires_at}``."""
        path = self._policy.session_path(session_id, "/run")
        return self._request("POST", path, {"code": code, **fields}, once=True).json()

    def delete_session(self, session_id: str) -> None:
        """Close it; one already gone (expired, ended, deleted) is fine too."""
        self._request("DELETE", self._policy.session_path(session_id), fine=_GONE)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RewardClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncRewardClient:
    """Asyncio client; chunks of one call are sent concurrently."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", *, api_key: str | None = None,
                 timeout: float = 120.0, retries: int = 3, backoff: float = 0.5, max_batch: int = 512,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._policy = _Policy(base_url, api_key, timeout, retries, backoff, max_batch)
        self._http = httpx.AsyncClient(base_url=self._policy.base_url, headers=self._policy.headers,
                                       timeout=self._policy.timeout, transport=transport)

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None, *, once: bool = False,
                       fine: frozenset[int] = frozenset()) -> httpx.Response:
        attempt = 0
        while True:
            response, error = None, None
            try:
                response = await self._http.request(method, path, json=body)
            except _RETRY_EXC as exc:
                error = exc
            if not self._policy.outcome(attempt, response, error, once=once, fine=fine):
                assert response is not None
                return response
            await asyncio.sleep(self._policy.delay(attempt, response))
            attempt += 1

    async def score(self, items: Sequence[ScoreItem | dict[str, Any]],
                    recipe: str | RecipeSpec | dict[str, Any] | None = None) -> list[ItemResult]:
        responses = await asyncio.gather(*(self._request("POST", "/score", body)
                                           for body in self._policy.bodies(items, recipe)))
        return [r for response in responses for r in self._policy.results(response)]

    async def health(self) -> dict[str, Any]:
        return (await self._request("GET", "/healthz")).json()

    # -- the sandbox as a tool (as RewardClient's) --------------------------------------------------------

    async def run_code(self, code: str, language: str = "python", **fields: Any) -> dict[str, Any]:
        body = self._policy.tool_body(fields, code=code, language=language)
        return (await self._request("POST", "/run_code", body)).json()

    async def create_session(self, language: str = "python", **fields: Any) -> str:
        body = self._policy.tool_body(fields, language=language)
        return (await self._request("POST", "/sessions", body, once=True)).json()["session_id"]

    async def run_in_session(self, session_id: str, code: str, **fields: Any) -> dict[str, Any]:
        path = self._policy.session_path(session_id, "/run")
        return (await self._request("POST", path, {"code": code, **fields}, once=True)).json()

    async def delete_session(self, session_id: str) -> None:
        await self._request("DELETE", self._policy.session_path(session_id), fine=_GONE)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRewardClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
