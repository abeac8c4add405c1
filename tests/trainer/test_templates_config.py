"""Prompt templates (consistent with the service's prefilled-<think> rule) and the run config."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reward_service.grading.extract import prompt_prefills_think
from trainer.config import load_config, set_dotted
from trainer.templates import PromptTemplate
from trainer.tiny import build_tokenizer

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "trainer" / "configs").glob("*.yaml"))


def test_r1_zero_template_wraps_the_question():
    text = PromptTemplate("r1_zero").render("What is 2+2?")
    assert text.startswith("A conversation between User and Assistant.")
    assert "<think> reasoning process here </think> <answer> answer here </answer>" in text
    assert text.endswith("User: What is 2+2? Assistant:")
    assert not prompt_prefills_think(text)


def test_prefilled_think_is_what_the_service_detects():
    r1_zero = PromptTemplate("r1_zero", prefill_think=True).render("What is 2+2?")
    assert r1_zero.endswith("Assistant: <think>")
    chat = PromptTemplate("chat", system_prompt="Be brief.").render("2+2?", build_tokenizer([]))
    assert chat == "system : Be brief. user : 2+2? assistant : <think>"  # the tiny template opens <think>
    again = PromptTemplate("chat", prefill_think=True).render("2+2?", build_tokenizer([]))
    assert again.count("<think>") == 1                                    # not opened twice
    assert prompt_prefills_think(r1_zero) and prompt_prefills_think(chat) and prompt_prefills_think(again)


def test_chat_messages_and_raw_prompts():
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    assert PromptTemplate("chat").render(messages, build_tokenizer([])) == "system : S user : Q assistant : <think>"
    assert PromptTemplate("raw").render("as is") == "as is"
    assert PromptTemplate("r1_zero").render(messages).endswith("User: Q Assistant:")
    with pytest.raises(ValueError, match="chat template"):
        PromptTemplate("chat").render("Q", None)


def test_unknown_config_keys_fail_naming_the_key(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"data": {"source": "x.jsonl", "answer_colum": "a"}}))
    with pytest.raises(ValueError, match="answer_colum"):
        load_config(path)


def test_overrides_set_nested_keys_as_yaml_values(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("model: tiny\ntraining: {max_steps: 5}\n")
    cfg = load_config(path, ["training.max_steps=7", "service.recipe=r1", "data.limit=3", "lora.r=8"])
    assert cfg.training == {"max_steps": 7}
    assert (cfg.service.recipe, cfg.data.limit, cfg.lora.r) == ("r1", 3, 8)
    raw: dict = {}
    with pytest.raises(ValueError, match="key=value"):
        set_dotted(raw, "no-equals-sign")


@pytest.mark.parametrize(("key", "value", "message"), [
    ("max_stepz", 3, "training.max_stepz is not a GRPOConfig field; did you mean max_steps?"),
    ("max_steps", "abc", "training.max_steps must be int, got 'abc'"),
    ("max_steps", True, "training.max_steps must be int, got True"),
    ("learning_rate", "fast", "training.learning_rate must be float, got 'fast'"),
    ("max_completion_length", "long", "training.max_completion_length must be int or null, got 'long'"),
])
def test_training_typos_and_wrong_types_name_the_field(key, value, message):
    from trl import GRPOConfig

    from trainer.config import check_training
    with pytest.raises(ValueError) as err:
        check_training({key: value}, GRPOConfig)
    assert str(err.value) == message


def test_training_values_trl_accepts_pass_the_check():
    from trl import GRPOConfig

    from trainer.config import check_training
    check_training({"max_steps": 3, "learning_rate": 1, "bf16": False, "report_to": "none",
                    "max_completion_length": None, "lr_scheduler_type": "cosine"}, GRPOConfig)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_configs_load_and_name_only_trl_fields(path):
    from trl import GRPOConfig, SFTConfig
    cfg = load_config(path)
    trl_config = SFTConfig if "sft" in path.stem else GRPOConfig
    assert set(cfg.training) <= {f.name for f in dataclasses.fields(trl_config)}
    if cfg.lora:
        assert cfg.lora.to_peft().r == cfg.lora.r


@pytest.mark.parametrize(("model", "args"), [("", []), ("model: null\n", []), ("model: tiny\n", ["--set", "model="])],
                         ids=["absent", "null", "unset"])
def test_a_config_without_a_model_is_one_line_before_anything_trains(tmp_path, model, args):
    """Before: the default "tiny" model trained for minutes and the run exited 0."""
    path = tmp_path / "run.yaml"
    path.write_text(f"{model}output_dir: {tmp_path / 'run'}\nservice: {{url: 'http://127.0.0.1:9'}}\n")
    done = subprocess.run([sys.executable, "-m", "trainer", "grpo", "--config", str(path), *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: the config names no model: add `model:")
    assert not (tmp_path / "run").exists()
