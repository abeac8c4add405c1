"""The R1 stages around GRPO on the tiny model: rejection sampling -> SFT, the plot, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.trainer.conftest import tiny_config
from trainer.callbacks import METRICS_FILE, read_metrics
from trainer.config import from_dict
from trainer.data import read_jsonl
from trainer.plot import plot_run
from trainer.sample import run_sample
from trainer.sft import load_sft_rows, run_sft

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_sample_keeps_only_completions_the_service_accepts(module_service, tmp_path, capsys):
    cfg = tiny_config(tmp_path / "run", module_service.url, steps=1)
    stats = run_sample(cfg)

    kept = read_jsonl(tmp_path / "run" / "accepted.jsonl")
    assert (stats.prompts, stats.completions, stats.unscored) == (4, 16, 0)
    assert 0 < stats.accepted < stats.completions and stats.accepted == len(kept)
    for row in kept:  # required component tag_count == 1: exactly one </think>, no second <think>
        assert row["completion"].count("</think>") == 1 and "<think>" not in row["completion"]
        assert row["prompt"].endswith("assistant : <think>") and row["reward"] == 1.0
    assert f"accepted {stats.accepted}" in capsys.readouterr().out


def test_sft_trains_on_prompt_completion_jsonl(tmp_path):
    data = tmp_path / "sft.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"user : q{i} assistant : <think>",
                                        "completion": f"a{i} </think> b{i}", "reward": 1.0}) + "\n"
                            for i in range(8)))
    cfg = from_dict({"model": "tiny", "output_dir": str(tmp_path / "sft"), "data": {"source": str(data)},
                     "training": {"max_steps": 20, "per_device_train_batch_size": 4, "learning_rate": 1e-2,
                                  "use_cpu": True, "disable_tqdm": True, "seed": 0}})
    assert run_sft(cfg) == 0
    losses = [r["loss"] for r in read_metrics(tmp_path / "sft")]
    assert len(losses) == 20 and sum(losses[-5:]) < sum(losses[:5])
    assert (tmp_path / "sft" / "config.json").exists()
    # The next stage loads this checkpoint: its tokenizer must come back as it was saved (transformers 5
    # rebuilt it as Qwen2's BPE, which maps every word to nothing).
    from trainer.models import load_tokenizer
    reloaded = load_tokenizer(str(tmp_path / "sft"))
    ids = reloaded("user : q3 assistant : <think> a3 </think> b3")["input_ids"]
    assert len(ids) == 9 and reloaded.unk_token_id not in ids and reloaded.pad_token == "<pad>"


def test_sft_accepts_messages_and_rejects_other_shapes(tmp_path):
    good = tmp_path / "chat.jsonl"
    good.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"},
                                             {"role": "assistant", "content": "yo"}]}) + "\n")
    assert load_sft_rows(str(good))[0]["messages"][1]["content"] == "yo"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "x"}) + "\n")
    with pytest.raises(ValueError, match="prompt\\+completion, or messages"):
        load_sft_rows(str(bad))


def test_plot_writes_a_png_of_the_run(tmp_path):
    rows = [{"step": s, "reward": s / 10, "service/accuracy": s / 20, "service/format": 1.0, "loss": 0.1,
             "service/unscored_frac": 0.0, "completions/mean_length": 10 + s, "reflection_rate": 0.1}
            for s in range(1, 11)]
    rows.insert(5, {"step": 5, "reward": None, "service/unscored_frac": 1.0})  # an outage step (NaN -> null)
    (tmp_path / METRICS_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = plot_run(tmp_path)
    assert out == tmp_path / "curves.png"
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 10_000


def test_plot_shows_every_curve_even_when_two_are_equal():
    from trainer.plot import figure
    rows = [{"step": s, "reward": s / 10, "service/tag_count": s / 10, "service/format": s / 20} for s in range(1, 6)]
    reward_panel = figure(rows, "run").axes[0]
    styles = {(line.get_linewidth(), line.get_linestyle()) for line in reward_panel.get_lines()}
    assert len(reward_panel.get_lines()) == 3 and len(styles) == 3  # the reward is not hidden under tag_count


@pytest.mark.slow
def test_cli_grpo_then_plot(module_service, tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump({"model": "tiny", "output_dir": str(tmp_path / "run"),
                                   "service": {"url": module_service.url, "recipe": "r1-zero"},
                                   "data": {"source": "builtin:arithmetic", "limit": 4, "template": "r1_zero"},
                                   "training": {"max_steps": 3, "per_device_train_batch_size": 4,
                                                "num_generations": 4, "max_completion_length": 8,
                                                "use_cpu": True, "activation_checkpointing": False}}))
    run = [sys.executable, "-m", "trainer"]
    done = subprocess.run([*run, "grpo", "--config", str(cfg), "--set", "training.max_steps=2"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "done: 2 scoring requests, 8 completions scored, 0 left None" in done.stdout
    steps = [line for line in done.stdout.splitlines() if line.startswith("step ") and " done in " not in line]
    assert len(steps) == 2 and steps[0].startswith("step 1/2  reward ") and " wait " in steps[0]  # one line a step
    assert "{'loss'" not in done.stdout + done.stderr  # not TRL's whole metrics dict
    assert "Warning" not in done.stderr, done.stderr[-2000:]  # no warning in every run
    assert len(read_metrics(tmp_path / "run")) == 2
    plotted = subprocess.run([*run, "plot", str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
    assert plotted.returncode == 0, plotted.stderr
    assert (tmp_path / "run" / "curves.png").read_bytes()[:8] == PNG_MAGIC


def test_cli_reports_config_errors_and_an_absent_service(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("model: tiny\nservice: {url: 'http://127.0.0.1:9', retries: 0}\nbogus: 1\n")
    done = subprocess.run([sys.executable, "-m", "trainer", "grpo", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "unknown key(s) in the config: bogus" in done.stderr
    cfg.write_text("model: tiny\nservice: {url: 'http://127.0.0.1:9'}\ndata: {source: builtin:countdown}\n")
    done = subprocess.run([sys.executable, "-m", "trainer", "grpo", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "reward service at http://127.0.0.1:9 is not reachable" in done.stderr


def test_cli_fails_at_once_on_a_training_typo_or_a_recipe_the_service_refuses(module_service, tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"model: tiny\nservice: {{url: '{module_service.url}', recipe: no-such-recipe}}\n"
                   "data: {source: builtin:arithmetic}\ntraining: {max_stepz: 3}\n")
    run = [sys.executable, "-m", "trainer", "grpo", "--config", str(cfg)]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == \
        "error: training.max_stepz is not a GRPOConfig field; did you mean max_steps?"
    done = subprocess.run([*run, "--set", "training={}"], capture_output=True, text=True, timeout=120)
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode != 0 and "refused a test item" in last and "422" in last and "check service.recipe" in last


@pytest.mark.slow
def test_r1_general_data_stage_mixes_rule_and_reward_model_rewards(tmp_path):
    """trainer/configs/tiny-mixed.yaml as shipped, against a service that serves a tiny reward model: math
    rows get accuracy + format, general rows the reward model, in one run."""
    from tests.conftest import Service
    rm = tmp_path / "tiny-rm"
    done = subprocess.run([sys.executable, "-m", "trainer", "tiny-rm", "--out", str(rm)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    svc = Service({"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", "REWARD_REWARD_MODELS": str(rm)})
    try:
        svc.wait_ready()
        run = subprocess.run(
            [sys.executable, "-m", "trainer", "grpo", "--config", "trainer/configs/tiny-mixed.yaml",
             "--set", f"service.url={svc.url}", "--set", f"output_dir={tmp_path / 'run'}",
             "--set", "training.max_steps=4",
             "--set", f"service.recipe.components.reward_model.options.model={rm}"],
            capture_output=True, text=True, timeout=600)
    finally:
        svc.stop()
    assert run.returncode == 0, run.stderr[-3000:]
    rows = read_metrics(tmp_path / "run")
    assert len(rows) == 4 and "done: 4 scoring requests, 64 completions scored, 0 left None" in run.stdout
    scored_by_model = [r["service/reward_model"] for r in rows if "service/reward_model" in r]
    assert scored_by_model and all(0.0 < v < 1.0 for v in scored_by_model)  # sigmoid of the general rows' scores
    assert any("service/accuracy" in r for r in rows) and all("service/format" in r for r in rows)


@pytest.mark.slow
def test_rlvr_stage_mixes_math_and_instruction_following_rows(tmp_path):
    """trainer/configs/tiny-ifeval.yaml as shipped: math rows and ifeval rows (both label forms) in one run,
    every completion scored (an ifeval label the service could not read would leave rewards None)."""
    from tests.conftest import Service
    svc = Service({"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none"})
    try:
        svc.wait_ready()
        run = subprocess.run(
            [sys.executable, "-m", "trainer", "grpo", "--config", "trainer/configs/tiny-ifeval.yaml",
             "--set", f"service.url={svc.url}", "--set", f"output_dir={tmp_path / 'run'}",
             "--set", "training.max_steps=4", "--set", "data.shuffle_seed=0"],
            capture_output=True, text=True, timeout=600)
    finally:
        svc.stop()
    assert run.returncode == 0, run.stderr[-3000:]
    rows = read_metrics(tmp_path / "run")
    assert len(rows) == 4 and "done: 4 scoring requests, 64 completions scored, 0 left None" in run.stdout
    assert all(r["service/unscored_frac"] == 0 for r in rows)
    assert all("service/accuracy" in r for r in rows)
