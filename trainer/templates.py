"""Prompt templates: how a question becomes the text the policy continues.

* ``r1_zero`` — the DeepSeek-R1-Zero template (for base models): the conversation preamble, the question,
  then ``Assistant:``. With ``prefill_think`` the prompt also opens ``<think>`` (TinyZero does).
* ``chat`` — the model's own chat template (instruct and R1-distilled models), with
  ``add_generation_prompt``. Many R1-style templates already open ``<think>``; with ``prefill_think`` it
  is opened when the template does not.
* ``raw`` — the prompt column is already the full text.

Every prompt is rendered to text here, once, and that same text goes to the model and to the reward
service. The service reads a prompt ending in ``<think>`` as "prefilled" (the completion starts inside
the think block), so the format reward agrees with what the model was actually asked to continue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TemplateKind = Literal["r1_zero", "chat", "raw"]

R1_ZERO = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with the "
    "answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> "
    "tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. "
    "User: {question} Assistant:"
)
THINK = "<think>"


@dataclass(frozen=True)
class PromptTemplate:
    kind: TemplateKind = "r1_zero"
    system_prompt: str | None = None     # chat only: a system message before the question
    prefill_think: bool = False          # open <think> at the end of the prompt
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. {"enable_thinking": true}

    def render(self, question: str | list[dict[str, str]], tokenizer: Any = None) -> str:
        """The prompt text for one question (text, or chat messages whose last user turn is the question)."""
        if self.kind == "raw":
            text = question if isinstance(question, str) else _last_user(question)
        elif self.kind == "r1_zero":
            text = R1_ZERO.format(question=(question if isinstance(question, str) else _last_user(question)).strip())
        elif self.kind == "chat":
            text = self._chat(question, tokenizer)
        else:
            raise ValueError(f"unknown template {self.kind!r}; use r1_zero, chat or raw")
        if self.prefill_think and not text.rstrip().endswith(THINK):
            text = text + (" " if self.kind == "r1_zero" else "") + THINK
        return text

    def _chat(self, question: str | list[dict[str, str]], tokenizer: Any) -> str:
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise ValueError("template 'chat' needs a tokenizer with a chat template (use r1_zero for base models)")
        messages = [{"role": "user", "content": question}] if isinstance(question, str) else list(question)
        if self.system_prompt and messages[0]["role"] != "system":
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                             **self.chat_template_kwargs)


def _last_user(messages: list[dict[str, str]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return message["content"]
    raise ValueError("chat prompt has no user message")
