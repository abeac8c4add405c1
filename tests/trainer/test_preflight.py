"""``grpo``'s pre-flight: an unreachable service is one line in the first second. That second is kept by its
mechanism (timings are not asserted): the service is asked once, with no retries, before TRL is imported."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import ROOT, free_port

# trainer.cli.main as `python -m trainer` runs it, then which heavy modules were imported by the time it ended.
RUN = """
import json, sys
from trainer.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    print(exc.code, file=sys.stderr)
    code = 1
print(json.dumps({"code": code, "imported": sorted({"trl", "transformers", "torch"} & set(sys.modules))}))
"""


def grpo(tmp_path: Path, url: str) -> tuple[dict, str]:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"model: tiny\noutput_dir: {tmp_path / 'run'}\ndata: {{source: builtin:countdown}}\n"
                   f"service: {{url: '{url}', retries: 5, backoff_s: 2}}\n")  # the run's retries: not for this
    done = subprocess.run([sys.executable, "-c", RUN, "grpo", "--config", str(cfg)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    return json.loads(done.stdout.splitlines()[-1]), done.stderr


def test_an_unreachable_service_is_one_line_before_trl_is_imported(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused
    outcome, stderr = grpo(tmp_path, url)
    assert outcome == {"code": 1, "imported": []}, stderr
    assert stderr.count("\n") == 1 and stderr.startswith(f"error: reward service at {url} is not reachable ("), stderr
    assert "start it with `python -m reward_service serve` or fix service.url" in stderr


def test_the_pre_flight_asks_once(tmp_path):
    """A service that drops every connection (a retryable failure) is connected to once, not retried."""
    server = socket.create_server(("127.0.0.1", 0))
    connections = []

    def drop() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed: the test is over
                return
            connections.append(conn)
            conn.close()

    threading.Thread(target=drop, daemon=True).start()
    try:
        outcome, stderr = grpo(tmp_path, f"http://127.0.0.1:{server.getsockname()[1]}")
    finally:
        server.close()
    assert outcome["code"] == 1 and "is not reachable" in stderr and stderr.count("\n") == 1, stderr
    assert len(connections) == 1
