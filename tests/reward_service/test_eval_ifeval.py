"""The eval summary of instruction-following rows: IFEval's four accuracies and each id's rates, from data
sets' own row forms (Google's IFEval/IFBench rows, open-instruct's RLVR rows)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reward_service.eval_rows import normalize
from reward_service.evaluate import evaluate
from reward_service.settings import Settings
from tests.conftest import ROOT

PROMPT = "Write about foxes. Do not use commas. Use at least 2 bullet points."
NO_COMMA, BULLETS = "punctuation:no_comma", "detectable_format:number_bullet_lists"


def google_row(completion: str, key: int) -> dict:
    return {"key": key, "prompt": PROMPT, "instruction_id_list": [NO_COMMA, BULLETS],
            "kwargs": [{"num_bullets": None}, {"num_bullets": 2}], "completion": completion}


ROWS = [
    google_row("* Foxes run\n* Foxes hide", 1),               # both followed
    google_row("* Foxes run, fast\n* Foxes hide, too", 2),    # commas on both lines: one of two, loose too
    google_row("* Intro line\n* Foxes run\n* Foxes hide", 3),  # three bullets; loose (first line gone) two
    {"prompt": "Say hi in French.", "completion": "Bonjour tout le monde, comment allez-vous aujourd'hui ?",
     "dataset": "ifeval", "ground_truth": json.dumps([{"instruction_id": ["language:response_language"],
                                                      "kwargs": [{"language": "fr"}]}])},
    {"prompt": "x", "completion": "y", "instruction_id_list": ["no:such_id"], "kwargs": [{}]},  # invalid label
    {"problem": "1+1?", "answer": "2", "completion": "\\boxed{2}"},                             # not ifeval
]


def test_data_set_rows_become_ifeval_items():
    assert normalize(ROWS[0])["task"] == "ifeval"
    assert json.loads(json.dumps(normalize(ROWS[0])["answer"]))["instruction_id_list"] == [NO_COMMA, BULLETS]
    assert normalize(ROWS[3])["answer"] == ROWS[3]["ground_truth"]
    assert "task" not in normalize(ROWS[5])


def test_summary_has_ifevals_four_accuracies_and_each_ids_rates():
    graded, numbers = evaluate(ROWS, settings=Settings(workers=1))
    assert [g["result"]["status"] for g in graded] == ["ok", "ok", "ok", "ok", "invalid", "ok"]
    ifeval = numbers["ifeval"]
    assert (ifeval["rows"], ifeval["not_graded"], ifeval["instructions"]) == (5, 1, 7)
    # strict: row 1 both, row 2 bullets only, row 3 comma only, row 4 French: 5 of 7, prompts 2 of 4
    assert ifeval["inst_level_strict_acc"] == pytest.approx(5 / 7)
    assert ifeval["prompt_level_strict_acc"] == pytest.approx(2 / 4)
    # loose: row 3's first line dropped leaves two bullets
    assert ifeval["inst_level_loose_acc"] == pytest.approx(6 / 7)
    assert ifeval["prompt_level_loose_acc"] == pytest.approx(3 / 4)
    assert ifeval["by_instruction"][NO_COMMA] == {"instructions": 3, "strict": pytest.approx(2 / 3),
                                                  "loose": pytest.approx(2 / 3)}
    assert ifeval["by_instruction"][BULLETS] == {"instructions": 3, "strict": pytest.approx(2 / 3), "loose": 1.0}
    assert ifeval["by_instruction"]["language:response_language"]["strict"] == 1.0


def test_without_ifeval_rows_there_is_no_ifeval_summary():
    _, numbers = evaluate([ROWS[5]], settings=Settings(workers=1))
    assert "ifeval" not in numbers


def test_eval_cli_prints_and_writes_the_instruction_table(tmp_path):
    src, out = tmp_path / "ifeval.jsonl", tmp_path / "summary.json"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS[:3]))
    run = subprocess.run([sys.executable, "-m", "reward_service", "eval", str(src), "--workers", "1",
                          "--summary-json", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = {line.split()[0]: line.split()[1:] for line in run.stdout.splitlines() if line.strip()}
    assert lines[BULLETS] == ["3", "0.667", "1.000"] and lines[NO_COMMA] == ["3", "0.667", "0.667"]
    assert "prompt_level_strict_acc 0.333" in run.stdout
    assert json.loads(out.read_text())["ifeval"]["inst_level_loose_acc"] == pytest.approx(5 / 6)
