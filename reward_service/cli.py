"""Command line: ``reward-service serve | worker | eval`` (also ``python -m reward_service``)."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reward_service import components
from reward_service.components import ComponentError
from reward_service.settings import Settings

if TYPE_CHECKING:
    from reward_service.reward_model import RewardModels

DESCRIPTION = ("The reward service: serve the HTTP API (grading in this process, or through Redis workers), run "
               "queue workers, grade a JSONL file, or probe recipes for reward hacks. Settings come from REWARD_* "
               "environment variables (see the README); the flags below override them.")


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with the flags given on the command line on top."""
    overrides = {k: v for k, v in {
        "host": getattr(args, "host", None), "port": getattr(args, "port", None),
        "workers": getattr(args, "workers", None), "redis_url": getattr(args, "redis_url", None),
        "log_level": getattr(args, "log_level", None), "reward_models": getattr(args, "models", None),
    }.items() if v is not None}
    return Settings(**overrides)


def _load_reward_models(settings: Settings) -> RewardModels | None:
    """REWARD_REWARD_MODELS, loaded before serving; None when one cannot be loaded (said in one line)."""
    from reward_service.reward_model import RewardModelError, RewardModels
    try:
        return RewardModels.load(settings.reward_model_names(), settings.reward_model_device)
    except RewardModelError as exc:
        print(f"reward-service: {exc}", file=sys.stderr)
        return None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from reward_service import logs
    from reward_service.api.app import create_app
    from reward_service.reward_model import RewardModels
    settings = _settings(args)
    logs.configure(settings.log_level, settings.log_format)
    components.load(settings.component_module_names())
    try:
        sockets = _bind(settings)
    except _CannotBind as exc:
        print(f"reward-service: {exc}", file=sys.stderr)
        return 2
    models = RewardModels() if settings.redis_url else _load_reward_models(settings)  # workers serve them then
    if models is None:
        return 2
    config = uvicorn.Config(create_app(settings, models=models), host=settings.host, port=settings.port,
                            log_level=settings.log_level, log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=sockets)
    return 0


class _CannotBind(Exception):
    """An address ``serve`` cannot listen on; printed as one line."""


def _bind(settings: Settings) -> list[socket.socket]:
    """The API socket, and the metrics socket when REWARD_METRICS_PORT is set (one server, one event loop and
    one app on two ports: the app tells them apart, auth.Authenticate). Bound here, before the app starts:
    uvicorn binds after the lifespan, so a port in use said "ready" and then failed."""
    ports = [(settings.port, "--port / REWARD_PORT")]
    if settings.metrics_port is not None:
        ports.append((settings.metrics_port, "REWARD_METRICS_PORT"))
    sockets: list[socket.socket] = []
    for port, where in ports:
        sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a restart need not wait
        try:
            sock.bind((settings.host, port))
        except OSError as exc:
            for s in (sock, *sockets):
                s.close()
            raise _CannotBind(f"cannot listen on {settings.host}:{port} ({where}): {exc.strerror or exc}") from None
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


def _worker(args: argparse.Namespace) -> int:
    import asyncio

    from reward_service import logs
    from reward_service.worker import run_worker
    settings = _settings(args)
    logs.configure(settings.log_level, settings.log_format)
    if not settings.redis_url:
        logging.getLogger(__name__).error("a worker needs a Redis URL: --redis-url or REWARD_REDIS_URL")
        return 2
    components.load(settings.component_module_names())
    models = _load_reward_models(settings)
    if models is None:
        return 2
    asyncio.run(run_worker(settings, models))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from reward_service.evaluate import run_eval
    return run_eval(args.input, output=args.output, url=args.url, recipe=args.recipe, api_key=args.api_key,
                    batch_size=args.batch_size, settings=_settings(args), group_by=args.group_by,
                    by=tuple(args.by or ()), summary_json=args.summary_json)


def _probe(args: argparse.Namespace) -> int:
    from reward_service import probe
    return probe.main(args, _settings(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reward-service", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service (embedded in-process queue unless --redis-url)")
    serve.add_argument("--host", help="address to listen on (default: REWARD_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: REWARD_PORT or 8000)")
    serve.add_argument("--workers", type=int, help="grader processes (default: CPU count)")
    serve.add_argument("--redis-url", help="queue through Redis workers instead of grading in-process")
    serve.add_argument("--models", help="reward models to load and serve, comma-separated (REWARD_REWARD_MODELS)")
    serve.add_argument("--log-level", help="debug, info, warning or error (default: info)")
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="grade chunks from the Redis queue (run any number, on any hosts)")
    worker.add_argument("--redis-url", help="the Redis the API enqueues to (default: REWARD_REDIS_URL)")
    worker.add_argument("--workers", type=int, help="grader processes (default: CPU count)")
    worker.add_argument("--models", help="reward models to load and serve, comma-separated (REWARD_REWARD_MODELS)")
    worker.add_argument("--log-level", help="debug, info, warning or error (default: info)")
    worker.set_defaults(func=_worker)

    ev = sub.add_parser("eval", help="grade a JSONL file of completions; write results and print a summary")
    ev.add_argument("input", help="JSONL: one item per line (score-item fields; 'prompt_id' groups samples)")
    ev.add_argument("--group-by", metavar="FIELD", help="the field whose value groups a prompt's samples for "
                    "pass@k (default: prompt_id; a line without it is grouped by its prompt text)")
    ev.add_argument("-o", "--output", help="results JSONL (default: INPUT with .graded.jsonl)")
    ev.add_argument("--summary-json", metavar="PATH", help="also write the summary as JSON (overall, by_task, "
                    "by_source, by_FIELD: samples, prompts, mean, stderr, no_answer, pass@k, maj@k)")
    ev.add_argument("--by", metavar="FIELD", action="append", help="summarise by this field too (e.g. level, "
                    "subject; repeat for more; rows without it count under null)")
    ev.add_argument("--url", help="grade against a running service instead of in this process")
    ev.add_argument("--api-key", help="bearer token for --url (default: REWARD_API_KEY)")
    ev.add_argument("--recipe", default="accuracy", help="recipe name (default: accuracy)")
    ev.add_argument("--batch-size", type=int, default=256, help="items per request (default: 256)")
    ev.add_argument("--workers", type=int, help="grader processes when grading locally")
    ev.set_defaults(func=_eval)

    pr = sub.add_parser("probe", help="run a catalogue of reward-hacking exploits against recipes; exit 1 on a leak")
    pr.add_argument("--url", help="probe a running service instead of grading in this process")
    pr.add_argument("--api-key", help="bearer token for --url (default: REWARD_API_KEY)")
    pr.add_argument("--recipe", action="append", help="a recipe name or a JSON spec; repeat for several "
                                                      "(default: every built-in recipe)")
    pr.add_argument("--exploits", help="a directory of exploit files (default: the shipped catalogue)")
    pr.add_argument("--workers", type=int, help="grader processes when grading locally")
    pr.set_defaults(func=_probe)
    return parser


def main(argv: Sequence[str] | None = None) -> Any:
    from pydantic import ValidationError
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ComponentError as exc:  # REWARD_COMPONENT_MODULES names a module that fails: one line
        print(f"reward-service: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # a bad REWARD_* value: one line each, no traceback
        if exc.title != "Settings":
            raise
        for error in exc.errors():
            where = ".".join(map(str, error["loc"]))
            field = f"REWARD_{where.upper()}: " if where else ""
            print(f"reward-service: bad setting: {field}{error['msg'].removeprefix('Value error, ')}",
                  file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
