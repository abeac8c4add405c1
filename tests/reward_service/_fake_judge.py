"""A small OpenAI-compatible judge on loopback (the endpoint is a third party we cannot reach; the client, the
engine and the service under test are the real ones).

It judges by rule, so that each test knows the right verdict: a student answer that spells "twelve" for the
reference 12 is equivalent; a rubric request is worth 7. Models script its failures; ``leaky`` answers 400
with a body holding ``BODY_MARKER`` (what a caller must never see).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import free_port

BODY_MARKER = "internal-body-3f9c"


class Judge(BaseHTTPRequestHandler):
    calls: list[dict] = []
    in_flight = peak = 0
    lock = threading.Lock()

    def log_message(self, *_):  # quiet
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model, prompt = body["model"], body["messages"][0]["content"]
        with Judge.lock:
            Judge.calls.append({"model": model, "prompt": prompt, "auth": self.headers.get("Authorization"),
                                "path": self.path})
            n = sum(c["model"] == model for c in Judge.calls)
            Judge.in_flight += 1
            Judge.peak = max(Judge.peak, Judge.in_flight)
        try:
            time.sleep(0.05 if model == "slow" else 0)
            code, answer = self._answer(model, prompt, n)
        finally:  # before the answer goes out: the client may send its next call as soon as it has it
            with Judge.lock:
                Judge.in_flight -= 1
        self._send(code, answer)

    def _answer(self, model: str, prompt: str, n: int) -> tuple[int, dict]:
        if model == "flaky" and n == 1 or model == "down":
            return 503, {"error": "busy"}
        if model == "needs-key" and self.headers.get("Authorization") != "Bearer sekrit":
            return 401, {"error": "no key"}
        if model == "leaky":
            return 400, {"error": f"{BODY_MARKER}: db=postgres://10.0.0.5 token=abc"}
        if model == "garbage" or model == "garbage-once" and n == 1:
            return self._reply(f"let me think about it ({BODY_MARKER})")
        if "Score the response" in prompt:
            return self._reply('{"score": 7}')
        return self._reply("Yes." if "twelve" in data_of(prompt)["student_final_answer"].lower() else "no")

    @staticmethod
    def _reply(content: str) -> tuple[int, dict]:
        return 200, {"choices": [{"message": {"role": "assistant", "content": content}}]}

    def _send(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def data_of(prompt: str) -> dict:
    """The JSON object of quoted data a judge prompt ends with."""
    return json.loads(prompt[prompt.index("\n{\n") + 1:])


def reset() -> None:
    with Judge.lock:
        Judge.calls.clear()
        Judge.peak = 0


@contextmanager
def serve() -> Iterator[str]:
    """The judge's base URL (``.../v1``) while it runs."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Judge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()
        server.server_close()


def declared(url: str, **judges: dict) -> dict:
    """REWARD_JUDGES for the fake: one judge per model name, each at ``url``; ``judges`` adds or overrides."""
    models = ("judge", "slow", "flaky", "down", "needs-key", "leaky", "garbage", "garbage-once")
    out = {m: {"base_url": url, "model": m, "retries": 1, "timeout_s": 5} for m in models}
    for name, more in judges.items():
        out[name] = {**out.get(name, {"base_url": url, "model": "judge", "retries": 1, "timeout_s": 5}), **more}
    return out
