"""Model, tokenizer and prepared data of a run, shared by ``grpo``, ``sft`` and ``sample``.

``model: tiny`` builds a tiny random ``Qwen2ForCausalLM`` whose word-level vocabulary covers the texts the
run will see (tests and CPU demos, no downloads); anything else is a hub name or a local path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trainer.config import RunConfig
from trainer.data import prepare


def load_tokenizer(model: str) -> Any:
    """``AutoTokenizer``'s, unless a local ``tokenizer.json`` describes another kind of model than the one it
    built. transformers 5 picks the class from the model's type, and a saved tiny model (``qwen2``, with a
    word-level vocabulary) came back as Qwen2's BPE, which maps every word to nothing: the second stage of
    the CPU chains (GRPO from the SFT checkpoint) trained on empty prompts. The file's description wins."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast
    tokenizer = AutoTokenizer.from_pretrained(model)
    path = Path(model) / "tokenizer.json"
    if path.is_file():
        declared = (json.loads(path.read_text(encoding="utf-8")).get("model") or {}).get("type")
        if declared and declared != type(tokenizer.backend_tokenizer.model).__name__:
            tokenizer = PreTrainedTokenizerFast.from_pretrained(model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def tiny_for(cfg: RunConfig, texts: Sequence[str],
             conversations: Sequence[list[dict[str, Any]]] = ()) -> tuple[Any, Any]:
    """(model, tokenizer) of a tiny random model whose vocabulary covers ``texts`` and ``conversations``;
    one that calls tools (a ``tools`` run, or SFT conversations with tool calls) gets the tiny tool-calling
    chat template (:mod:`trainer.tool_data`)."""
    from trainer.tiny import build_model, build_tokenizer
    from trainer.tool_data import calls_tools, tool_tokenizer
    if cfg.tools is not None or calls_tools(conversations):
        tokenizer = tool_tokenizer(texts, conversations)
    else:
        tokenizer = build_tokenizer(texts)
    return build_model(tokenizer, **cfg.tiny), tokenizer


def model_and_data(cfg: RunConfig) -> tuple[Any, Any, Any]:
    """(model or model name, tokenizer, prepared dataset) for ``grpo`` and ``sample``."""
    if cfg.model != "tiny":
        tokenizer = load_tokenizer(cfg.model)
        return cfg.model, tokenizer, prepare(cfg.data, tokenizer)
    from trainer.tiny import build_tokenizer
    dataset = prepare(cfg.data, build_tokenizer([]))  # the tiny chat template needs no vocabulary
    answers = [a for a in (dataset["answer"] if "answer" in dataset.column_names else []) if a]
    model, tokenizer = tiny_for(cfg, [*dataset["prompt"], *answers])
    return model, tokenizer, dataset


def load_causal_lm(name_or_model: Any) -> Any:
    """A model object (``sample`` needs one; TRL trainers also take the name)."""
    if not isinstance(name_or_model, str):
        return name_or_model
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_pretrained(name_or_model, dtype="auto")
