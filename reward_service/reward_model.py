"""Reward models (``AutoModelForSequenceClassification``): what the ``reward_model`` component scores with,
R1's helpfulness (on the answer) and harmlessness (on everything) rewards for general data.

Loaded once per process that serves them, at start-up (``REWARD_REWARD_MODELS`` / ``--models``), into a
:class:`RewardModels` that the engine grading with them owns: a model that cannot be loaded stops the start
with one line, never the first request; a recipe naming a model this service does not serve is a 422.
Scored in the service stage (the event loop, after the grader processes), like the LLM judges: requests for
one model from every item in flight are gathered for a few milliseconds and run together in a thread (torch
releases the GIL), sorted by length and cut into batches of at most the request's ``max_batch_tokens``
padded tokens, so padding costs little. On a GPU when there is one (bf16 there), else CPU (float32). The text
is the tokenizer's chat template applied to (prompt, answer) when it has one, else prompt and answer on two
lines; longer than ``max_length`` tokens, it is truncated from the left (the end of a response is what a
reward model must see) and ``details`` says so.

Needs the ``[rm]`` extra (torch, transformers); the base service installs and runs without it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

GATHER_S = 0.005  # how long a request waits for company before its batch runs


class RewardModelError(Exception):
    """A reward model cannot be loaded or used; the message is one line."""


@dataclass(frozen=True)
class Loaded:
    name: str
    model: Any
    tokenizer: Any
    device: str


def load(names: list[str], device: str = "auto") -> list[Loaded]:
    """Load each named model (hub name or local path); raises :class:`RewardModelError`."""
    try:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
    except ImportError:
        raise RewardModelError("reward models need the [rm] extra: pip install 'reward-service[rm]' "
                               "(torch, transformers)") from None
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    out = []
    for name in dict.fromkeys(names):
        try:
            tokenizer = _tokenizer(AutoTokenizer, name)
            model = AutoModelForSequenceClassification.from_pretrained(name, dtype=dtype).to(device).eval()
        except Exception as exc:
            raise RewardModelError(f"reward model {name!r} cannot be loaded: {str(exc).splitlines()[0][:300]}") from None
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model.config.pad_token_id = tokenizer.pad_token_id
        out.append(Loaded(name, model, tokenizer, device))
        log.info("reward model %s loaded on %s (%s)", name, device, dtype)
    return out


def _tokenizer(auto: Any, name: str) -> Any:
    """``AutoTokenizer``'s, unless a local ``tokenizer.json`` says its model is another kind than what it
    built: transformers 5 picks the tokenizer class from the model's type, and rebuilding e.g. a word-level
    tokenizer as Qwen2's BPE silently maps every word to nothing. The file's own description wins then."""
    tokenizer = auto.from_pretrained(name)
    path = os.path.join(name, "tokenizer.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            declared = (json.load(f).get("model") or {}).get("type")
        built = type(tokenizer.backend_tokenizer.model).__name__
        if declared and declared != built:
            from transformers import PreTrainedTokenizerFast
            log.warning("%s: tokenizer.json holds a %s model, %s built %s; using the file's", name, declared,
                        type(tokenizer).__name__, built)
            tokenizer = PreTrainedTokenizerFast.from_pretrained(name)
    return tokenizer


def render(tokenizer: Any, prompt: str, answer: str) -> str:
    """What the model reads: its chat template over (user: prompt, assistant: answer), if it has one."""
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
        return str(tokenizer.apply_chat_template(messages, tokenize=False))
    return f"{prompt}\n{answer}" if prompt else answer


def score_texts(loaded: Loaded, texts: list[str], max_length: int, max_batch_tokens: int) -> list[tuple[float, bool]]:
    """(raw score, truncated) per text, batched by length (see the module docstring)."""
    import torch
    tok = loaded.tokenizer
    ids = [tok(text, add_special_tokens=False)["input_ids"] or [tok.pad_token_id] for text in texts]  # "" too
    truncated = [len(x) > max_length for x in ids]
    ids = [x[-max_length:] for x in ids]  # keep the end
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out: list[float] = [0.0] * len(ids)
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and len(ids[order[end]]) * (end - start + 1) <= max_batch_tokens:
            end += 1
        batch = [ids[i] for i in order[start:end]]
        width = max(len(x) for x in batch)
        pad = tok.pad_token_id
        input_ids = torch.tensor([x + [pad] * (width - len(x)) for x in batch], dtype=torch.long, device=loaded.device)
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in batch], dtype=torch.long,
                            device=loaded.device)
        with torch.inference_mode():  # right padding: the model pools at the last token that is not padding
            values = loaded.model(input_ids=input_ids, attention_mask=mask).logits[:, 0]
        for i, value in zip(order[start:end], values.float().tolist(), strict=True):
            out[i] = value
        start = end
    return list(zip(out, truncated, strict=True))


def normalize(raw: float, how: str, mean: float, std: float) -> float:
    if how == "sigmoid":
        return 1.0 / (1.0 + math.exp(-raw))
    if how == "zscore":
        return (raw - mean) / std
    return raw


_Request = tuple[str, int, int, asyncio.Future[tuple[float, bool]]]  # text, max_length, max_batch_tokens


class RewardModels:
    """The reward models one process serves, and a batcher per model (a queue and the task that drains it).
    Owned by the engine that grades with them: nothing here is module state, and no request's options
    outlive it (each batch is cut by its own requests' ``max_length`` and ``max_batch_tokens``)."""

    def __init__(self, loaded: list[Loaded] | None = None) -> None:
        self._loaded = {m.name: m for m in loaded or []}
        self._queues: dict[str, asyncio.Queue[_Request]] = {}
        self._batchers: dict[str, asyncio.Task[None]] = {}

    @classmethod
    def load(cls, names: list[str], device: str = "auto") -> RewardModels:
        """The models ``names`` loaded (none: no torch import); raises :class:`RewardModelError`."""
        return cls(load(names, device) if names else [])

    def names(self) -> list[str]:
        return sorted(self._loaded)

    def get(self, name: str) -> Loaded:
        loaded = self._loaded.get(name)
        if loaded is None:
            raise RewardModelError(f"reward model {name!r} is not served here (serving: "
                                   f"{', '.join(self.names()) or 'none'})")
        return loaded

    def render(self, name: str, prompt: str, answer: str) -> str:
        return render(self.get(name).tokenizer, prompt, answer)

    async def score(self, name: str, text: str, max_length: int, max_batch_tokens: int) -> tuple[float, bool]:
        """(raw score, truncated) of ``text`` by model ``name``, batched with every request that arrives within
        ``GATHER_S``; raises :class:`RewardModelError` when the model is not served here or fails."""
        loaded = self.get(name)
        batcher = self._batchers.get(name)
        if batcher is None or batcher.done() or batcher.get_loop() is not asyncio.get_running_loop():
            self._queues[name] = asyncio.Queue()
            self._batchers[name] = asyncio.create_task(_batches(loaded, self._queues[name]), name=f"rm-{name}")
        future: asyncio.Future[tuple[float, bool]] = asyncio.get_running_loop().create_future()
        await self._queues[name].put((text, max_length, max_batch_tokens, future))
        return await future

    async def aclose(self) -> None:
        for task in self._batchers.values():
            task.cancel()
        await asyncio.gather(*self._batchers.values(), return_exceptions=True)
        self._batchers.clear()


async def _batches(loaded: Loaded, queue: asyncio.Queue[_Request]) -> None:
    while True:
        requests = [await queue.get()]
        await asyncio.sleep(GATHER_S)
        while not queue.empty():
            requests.append(queue.get_nowait())
        by_shape: dict[tuple[int, int], list[tuple[str, asyncio.Future[tuple[float, bool]]]]] = {}
        for text, max_length, max_batch_tokens, future in requests:
            by_shape.setdefault((max_length, max_batch_tokens), []).append((text, future))
        for (max_length, max_batch_tokens), group in by_shape.items():
            try:
                results = await asyncio.to_thread(score_texts, loaded, [t for t, _ in group], max_length,
                                                  max_batch_tokens)
            except Exception as exc:  # e.g. out of memory: these items fail, the service goes on
                for _, future in group:
                    if not future.done():
                        future.set_exception(RewardModelError(f"reward model {loaded.name!r} failed: {exc!r}"[:300]))
                continue
            for (_, future), result in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(result)
