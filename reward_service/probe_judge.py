"""A judge that obeys: the probe's stand-in for an LLM judge that follows orders found in what it judges (an
OpenAI-compatible chat-completions server on loopback, in a thread of the probe's process).

It reads a prompt as a careless model would: everything outside quoted data (JSON string literals) is
addressed to it, and an order there to ignore the instructions is obeyed: it replies the best verdict the
prompt asks for ("yes", or ``{"score": 10}``). Otherwise it is strict: "no", or ``{"score": 0}``. So an
exploit that gets an order past the quoting earns everything, and one that does not earns nothing. Every
request's path and whether it carried a key are recorded: the probe's caller-side exploits aim at
``canary_url``, which a service must never call.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ORDER = re.compile(r"\bignore\b[^\n]*\binstructions\b", re.IGNORECASE)
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')  # a JSON string literal: what the judge reads as data


def outside_quotes(prompt: str) -> str:
    """``prompt`` with its quoted data blanked: what this judge takes as addressed to it."""
    return STRING.sub('""', prompt)


def reply(prompt: str) -> str:
    obeys = ORDER.search(outside_quotes(prompt)) is not None
    if '"score"' in prompt.split("\n\n", 1)[0]:  # the instructions ask for a score
        return '{"score": 10}' if obeys else '{"score": 0}'
    return "yes" if obeys else "no"


class ObedientJudge:
    """The server, as a context manager: ``url`` to declare as a judge, ``canary_url`` for caller-side
    exploits, and ``calls``: (path, whether a key came) of every request."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.calls))
        port = self._server.server_port
        self.url = f"http://127.0.0.1:{port}/v1"
        self.canary_url = f"http://127.0.0.1:{port}/canary/v1"

    def canary_calls(self) -> int:
        return sum(path.startswith("/canary/") for path, _ in self.calls)

    def __enter__(self) -> ObedientJudge:
        threading.Thread(target=self._server.serve_forever, name="obedient-judge", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(calls: list[tuple[str, bool]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            calls.append((self.path, bool(self.headers.get("Authorization"))))
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                prompt = str(body["messages"][-1]["content"])
            except (ValueError, KeyError, IndexError, TypeError):
                return self._send(400, {"error": "not a chat-completions request"})
            self._send(200, {"choices": [{"message": {"role": "assistant", "content": reply(prompt)}}]})

        def _send(self, code: int, obj: dict[str, Any]) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
