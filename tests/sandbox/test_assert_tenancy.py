"""Assert-style test code is the caller's: it gets the same wall as the candidate's code (issue 17).

Each attack is test code that calls the candidate (so it is a valid test), then asserts that it reached
something of ours: an ``accepted`` verdict means the attack worked. Every attack runs on both backends, from
a grader started with a secret in its environment and beside a host process holding a marker, as the
service's graders are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "tenancy-secret-" + uuid.uuid4().hex

# Runs as the grader: judges one assert-style item on the backend named in argv, prints the report as JSON.
GRADER = """
import json, sys
from sandbox import Limits, get_backend, get_language, judge, parse_tests
backend = get_backend(sys.argv[1])
tests = json.loads(sys.stdin.read())
report = judge("def f(x):\\n    return x\\n", get_language("python"), parse_tests(tests), backend,
               Limits(item_time_s=20))
backend.close()
print(json.dumps({"verdict": report.verdict.value, "details": [t.detail for t in report.tests]}))
"""

ATTACKS = {
    # every environment it can read, the grader's (its parent's) among them
    "read-the-graders-environment": """
    seen = b''
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                seen += open('/proc/%s/environ' % pid, 'rb').read()
            except OSError:
                pass
    assert SECRET.encode() in seen, 'no secret'
""",
    "read-a-host-file": """
    assert SECRET in open(HOST_FILE).read()
""",
    "write-a-host-file": """
    with open(HOST_DIR + '/planted', 'w') as f:
        f.write(SECRET)
    assert os.path.exists(HOST_DIR + '/planted')
""",
    "see-another-process": """
    assert SECRET in open('/proc/%d/cmdline' % VICTIM).read()
""",
    "kill-another-process": """
    os.kill(VICTIM, 9)
""",
    "read-the-service-checkout": """
    assert 'issue 17' in open(CHECKOUT + '/tests/sandbox/test_assert_tenancy.py').read()
""",
}


@pytest.fixture
def victim(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A host process of the service's user, with the secret on its command line (another tenant's item)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", SECRET])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_test_code_reaches_nothing_of_ours(attack: str, backend, victim, tmp_path: Path) -> None:
    host_file = tmp_path / "secret.txt"
    host_file.write_text(SECRET)
    os.chmod(tmp_path, 0o777)  # readable and writable by anyone on the host: only the sandbox may stop it
    host_file.chmod(0o666)
    check = ("import os\n"
             f"SECRET, HOST_FILE, HOST_DIR = {SECRET!r}, {str(host_file)!r}, {str(tmp_path)!r}\n"
             f"VICTIM, CHECKOUT = {victim.pid}, {str(ROOT)!r}\n"
             "def check(candidate):\n    assert candidate(1) == 1\n" + ATTACKS[attack])
    tests = {"check": check, "entry_point": "f"}
    graded = subprocess.run([sys.executable, "-c", GRADER, backend.name], input=json.dumps(tests), text=True,
                            capture_output=True, cwd=ROOT, timeout=120,
                            env={**os.environ, "REWARD_API_KEYS": SECRET, "PYTHONPATH": str(ROOT)})
    assert graded.returncode == 0, graded.stderr[-2000:]
    report = json.loads(graded.stdout.strip().splitlines()[-1])
    assert report["verdict"] != "accepted", f"{attack}: the test code reached it"
    assert SECRET not in graded.stdout
    assert victim.poll() is None, "the test code killed a host process"
    assert not (tmp_path / "planted").exists()
