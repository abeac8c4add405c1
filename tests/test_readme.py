"""The README's commands, run as written against a real service, so the front door cannot drift from the code.

A fenced block preceded by ``<!-- readme-test -->`` is run: a ``bash`` block as one script (``-e``, and
``pipefail``: the first failing command fails it), a ``python`` block as a script. Only three things are substituted, each for isolation:

* the service: lines that start it (``python -m reward_service serve``) are dropped, and its address
  ``127.0.0.1:8000`` becomes the test service's free port (also inside the trainer configs a command names,
  which are copied with the address replaced);
* the ``runs`` directory becomes a temporary one;
* the working directory is the repository root.

A ``curl`` block must print JSON without an error ``detail``; every command must exit 0.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, Service, need

README = ROOT / "README.md"
BLOCK = re.compile(r"<!-- readme-test -->\n```(bash|python)\n(.*?)\n```", re.DOTALL)
DEFAULT = "127.0.0.1:8000"


def blocks() -> list[tuple[str, str]]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def script(body: str) -> str:
    """A bash block as a script: the lines that start the service dropped (the test provides one)."""
    return "\n".join(line for line in body.splitlines()
                     if not re.match(r"\s*python -m reward_service serve\b", line))


@pytest.fixture(scope="module")
def readme_service() -> Iterator[Service]:
    """The service the README's examples talk to: the embedded default, with a sandbox for code items."""
    import shutil
    need(shutil.which("bwrap") is not None or shutil.which("docker") is not None, "no sandbox for the code example")
    svc = Service({"REWARD_WORKERS": "2"})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


class Runner:
    def __init__(self, url: str, tmp: Path) -> None:
        self.address, self.tmp = url.removeprefix("http://"), tmp
        self.env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def substitute(self, text: str) -> str:
        return re.sub(r"--config (\S+\.ya?ml)", lambda m: f"--config {self._config(m.group(1))}", self._isolate(text))

    def _isolate(self, text: str) -> str:
        """The test service's address, and ``runs`` in the temporary directory."""
        return re.sub(r"(?<![\w./-])runs(?=/|\s|$)", f"{self.tmp}/runs", text.replace(DEFAULT, self.address))

    def _config(self, name: str) -> Path:
        copy = self.tmp / "configs" / Path(name).name
        copy.parent.mkdir(exist_ok=True)
        copy.write_text(self._isolate((ROOT / name).read_text()))
        return copy

    def bash(self, body: str) -> str:
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", self.substitute(script(body))], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{body}\nexit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        if body.lstrip().startswith("curl"):
            answer = json.loads(done.stdout)
            assert "detail" not in answer and answer["results"], (body, answer)
        return done.stdout

    def python(self, script: str) -> str:
        done = subprocess.run([sys.executable, "-c", self.substitute(script)], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{script}\n{done.stderr[-3000:]}"
        return done.stdout


def test_the_readme_marks_its_runnable_blocks():
    found = blocks()
    assert len(found) >= 6 and {lang for lang, _ in found} == {"bash", "python"}


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(blocks())))
def test_readme_block_runs_as_written(index, readme_service, tmp_path):
    lang, body = blocks()[index]
    runner = Runner(readme_service.url, tmp_path)
    had_runs = (ROOT / "runs").exists()
    if lang == "python":
        runner.python(body)
    else:
        runner.bash(body)
    assert had_runs or not (ROOT / "runs").exists(), "a README command wrote into the checkout's runs/"
