"""``grpo``: TRL's GRPOTrainer with its rewards from the reward service.

Reads top to bottom: model and tokenizer, data, the reward scorer, TRL's config, the trainer. GPU switches
are TRL's own ``training`` fields (``bf16``, ``use_vllm`` with ``vllm_mode: colocate|server``, ...), LoRA is
the ``lora`` section, and multi-GPU is ``accelerate launch -m trainer grpo --config ...``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from reward_service.client import RewardClient, RewardServiceError
from trainer.config import RunConfig, ServiceConfig, training_fields
from trainer.models import model_and_data
from trainer.rewards import ServiceScorer, reward_func

logger = logging.getLogger("trainer.grpo")

# -- preflight --------------------------------------------------------------------------------------------

PREFLIGHT_ITEM = {"completion": "<think>1 + 1 = 2</think> <answer>2</answer>", "answer": "2", "task": "math"}


def check_reachable(service: ServiceConfig) -> dict[str, Any]:
    """The service answers ``/healthz``, asked once: an unreachable URL is one line in the first second (the
    CLI asks before importing TRL, which takes seconds). Retries are for outages during a run, not for this."""
    try:
        with RewardClient(service.url, api_key=service.resolved_api_key(), timeout=5, retries=0) as client:
            return client.health()
    except RewardServiceError as exc:
        cause = repr(exc.__cause__) if exc.__cause__ is not None else str(exc)
        raise SystemExit(f"error: reward service at {service.url} is not reachable ({cause}); start it with "
                         "`python -m reward_service serve` or fix service.url") from exc


def check_service(cfg: RunConfig) -> None:
    """Fail fast, before loading anything heavy: the service is there, and it grades one item through the
    configured recipe and key (a bad recipe or a 401 is one line now, not a traceback at step 0)."""
    health = check_reachable(cfg.service)
    with RewardClient(cfg.service.url, api_key=cfg.service.resolved_api_key(), timeout=10, retries=2,
                      backoff=0.5) as client:
        try:
            client.score([PREFLIGHT_ITEM], recipe=cfg.service.recipe)
        except RewardServiceError as exc:
            raise SystemExit(f"error: reward service at {cfg.service.url} refused a test item: {_why(exc)}") from exc
    check_sessions(cfg)
    logger.info("reward service at %s: %s", cfg.service.url, health)


def _why(exc: RewardServiceError) -> str:
    if exc.status_code in (401, 403):
        return f"{exc} (set service.api_key or REWARD_API_KEY to a key the service accepts)"
    if exc.status_code == 422:
        return f"{exc} (check service.recipe)"
    return str(exc)


# -- the trainer -----------------------------------------------------------------------------------------

def grpo_config(cfg: RunConfig) -> Any:
    from trl import GRPOConfig
    return GRPOConfig(**training_fields(cfg, GRPOConfig))


def build_trainer(cfg: RunConfig, *, scorer: ServiceScorer | None = None, callbacks: Sequence[Any] = (),
                  sandbox: Any = None) -> tuple[Any, ServiceScorer]:
    """The GRPOTrainer of a run and the scorer its reward function uses (pass one to inject a client); with
    ``tools``, ``sandbox`` is the :class:`trainer.tools.SandboxFactory` its rollouts use (one is made)."""
    from trl import GRPOTrainer

    from trainer.callbacks import MetricsFileCallback, use_compact_progress  # transformers: seconds to import
    model, tokenizer, dataset = model_and_data(cfg)
    scorer = scorer or ServiceScorer.from_config(cfg.service, default_task=cfg.data.task)
    tools: dict[str, Any] = {}
    if cfg.tools is not None:
        dataset, tools, callbacks = _with_tools(cfg, dataset, sandbox, callbacks)
    trainer = GRPOTrainer(
        model=model, reward_funcs=[reward_func(scorer)], args=grpo_config(cfg), train_dataset=dataset,
        processing_class=tokenizer, peft_config=cfg.lora.to_peft() if cfg.lora else None,
        callbacks=[MetricsFileCallback(cfg.run_dir), *callbacks], **tools)
    use_compact_progress(trainer)
    return trainer, scorer


# -- tools (issue 18) -------------------------------------------------------------------------------------

def _with_tools(cfg: RunConfig, dataset: Any, sandbox: Any,
                callbacks: Sequence[Any]) -> tuple[Any, dict[str, Any], list[Any]]:
    """Chat prompts, TRL's ``environment_factory`` (the python tool), and the callback that closes its
    sessions at the end."""
    from trainer.tools import CloseSandboxes, SandboxFactory, conversational
    assert cfg.tools is not None
    factory = sandbox or SandboxFactory.from_config(cfg.service, cfg.tools)
    return (conversational(dataset, cfg.data.system_prompt), {"environment_factory": factory},
            [*callbacks, CloseSandboxes(factory)])


def check_sessions(cfg: RunConfig) -> None:
    """With tools, the service opens (and closes) one session: no sandbox there is one line now."""
    if cfg.tools is None:
        return
    with RewardClient(cfg.service.url, api_key=cfg.service.resolved_api_key(), timeout=30, retries=2,
                      backoff=0.5) as client:
        try:
            client.delete_session(client.create_session("python", **cfg.tools.session))
        except RewardServiceError as exc:
            raise SystemExit(f"error: reward service at {cfg.service.url} cannot open a Python session for "
                             f"the tools: {_why(exc)}") from exc


def close_scorer(trainer: Any, scorer: ServiceScorer) -> None:
    """Close the async client on the loop that used it (TRL's reward loop)."""
    loop = getattr(trainer, "async_loop", None)
    if loop is not None and loop.is_running():
        asyncio.run_coroutine_threadsafe(scorer.aclose(), loop).result(timeout=10)


def run_grpo(cfg: RunConfig) -> int:
    check_service(cfg)
    trainer, scorer = build_trainer(cfg)
    try:
        trainer.train()
    finally:
        close_scorer(trainer, scorer)
    trainer.save_model(cfg.output_dir)
    print(f"done: {scorer.requests} scoring requests, {scorer.scored} completions scored, {scorer.unscored} "
          f"left None ({scorer.failed_requests} failed requests); model and metrics.jsonl in {cfg.output_dir}")
    return 0
