"""A tiny random-init ``Qwen2ForCausalLM`` and a word-level tokenizer, built in-process.

For tests and CPU demos (no downloads): the vocabulary is the whitespace-separated words of the texts you
give it, plus the reasoning tags and a few chat words, so a prompt never meets an unknown word. Tags are
ordinary words (not special tokens), so decoding with ``skip_special_tokens`` keeps them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

TAGS = ("<think>", "</think>", "<answer>", "</answer>")
PAD, UNK, EOS = "<pad>", "<unk>", "<eos>"
CHAT_WORDS = ("system", "user", "assistant", ":")

# A minimal chat template in the style of R1 models: the generation prompt opens <think>.
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}assistant : <think>{% endif %}"
)


def build_tokenizer(texts: Iterable[str], *, chat_template: str = CHAT_TEMPLATE) -> Any:
    """A word-level fast tokenizer whose vocabulary covers every word of ``texts``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = dict.fromkeys([PAD, UNK, EOS, *TAGS, *CHAT_WORDS])
    for text in texts:
        words.update(dict.fromkeys(text.split()))
    vocab = {word: i for i, word in enumerate(words)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token=PAD, eos_token=EOS, unk_token=UNK)
    tokenizer.chat_template = chat_template
    return tokenizer


def build_model(tokenizer: Any, *, hidden_size: int = 32, layers: int = 2, heads: int = 4, seed: int = 0) -> Any:
    """A randomly initialised ``Qwen2ForCausalLM`` sized for ``tokenizer`` (~10k parameters by default)."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=1024, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=True)
    return model


def save_tiny_reward_model(out_dir: str | Path, texts: Iterable[str], *, hidden_size: int = 32, seed: int = 0) -> Path:
    """A random-init ``Qwen2ForSequenceClassification`` (one label) and its tokenizer, saved for the reward
    service to serve (``reward-service serve --models OUT``): R1's general-data stage on CPU, no downloads."""
    import torch
    from transformers import Qwen2Config, Qwen2ForSequenceClassification

    tokenizer = build_tokenizer(texts)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id)
    config.num_labels = 1  # one score (a keyword of PretrainedConfig, not in Qwen2Config's signature)
    torch.manual_seed(seed)
    out = Path(out_dir)
    Qwen2ForSequenceClassification(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out

