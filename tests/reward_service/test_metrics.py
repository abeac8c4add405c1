"""/metrics, request ids and structured logs, in process (fake backend through the GradingBackend Protocol)."""

from __future__ import annotations

import json
import logging

from reward_service.logs import JsonFormatter, request_id
from reward_service.queue.chunks import tally
from reward_service.schemas import ItemResult, ScoreItem, Status
from tests.reward_service.test_auth import ITEM, RECIPE, client


def test_request_id_is_echoed_or_made():
    with client() as c:
        assert c.get("/healthz", headers={"X-Request-ID": "trainer-7.step-3"}).headers["X-Request-ID"] == \
            "trainer-7.step-3"
        made = c.get("/healthz").headers["X-Request-ID"]
        assert len(made) == 32
        bad = c.get("/healthz", headers={"X-Request-ID": "has spaces " + "x" * 200}).headers["X-Request-ID"]
        assert " " not in bad and len(bad) == 32


def test_metrics_latency_by_route_and_items_by_task_and_status():
    with client() as c:
        c.post("/score", json={"items": [ITEM, {**ITEM, "id": "y"}], "recipe": RECIPE})
        c.get("/jobs/abc")
        text = c.get("/metrics").text
    assert 'reward_request_seconds_count{method="POST",route="/score",status="200"} 1.0' in text
    assert 'route="/jobs/{job_id}",status="404"' in text  # the route template, not the raw path
    assert 'reward_items_graded_total{status="ok",task="none"} 2.0' in text
    assert "reward_cache_hits_total 0.0" in text and "reward_sandbox_runs_total" in text


def test_tally_counts_sandbox_runs_and_timeouts():
    code = ScoreItem(completion="x", task="code")
    math = ScoreItem(completion="x", task="math")
    results = [ItemResult(reward=None, status=Status.timeout),
               ItemResult(reward=0.0, details={"accuracy": {"verdict": "time_limit"}}),
               ItemResult(reward=1.0, details={"cached": True})]
    counts = tally([code, code, math], results)
    assert counts == {"items:code:timeout": 1, "items:code:ok": 1, "items:math:ok": 1, "sandbox:timeout": 1,
                      "sandbox:ok": 1, "sandbox_timeouts": 2, "cache_hits": 1}


def test_json_logs_carry_the_request_id():
    token = request_id.set("rid-1")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
        record.status = 200
        from reward_service.logs import _RequestId
        _RequestId().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["msg"] == "hello there" and line["request_id"] == "rid-1" and line["status"] == 200


def test_access_log_has_no_key_and_no_completion(caplog):
    caplog.set_level(logging.INFO, logger="reward_service.access")
    secret_text = "<think>very private chain of thought</think> <answer>42</answer>"
    with client(api_keys="top-secret-key") as c:
        c.post("/score", json={"items": [{**ITEM, "completion": secret_text}], "recipe": RECIPE},
               headers={"Authorization": "Bearer top-secret-key"})
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "reward_service.access"]
    assert lines and any('"caller"' in line for line in lines)
    assert not any("top-secret-key" in line or "private chain" in line for line in lines)
