"""Python 3: stdin/stdout programs, and LeetCode-style function calls (``class Solution`` or a function)."""

from __future__ import annotations

import json

from sandbox.languages.base import Language, Program

# LeetCode's Python environment imports these for you; solutions rely on it.
PRELUDE = ("from typing import *\nimport collections, math, heapq, bisect, itertools, functools, string, re\n"
           "from collections import *\nfrom functools import *\nfrom itertools import *\nfrom heapq import *\n"
           "from bisect import *\nfrom math import *\n")

# Harness code that finds the function under test in the namespace the solution ran in: a method of
# LeetCode's ``class Solution``, else a top-level function; None when there is neither. Every Python harness
# starts with it (here, ``sandbox.harness.python``, ``sandbox.kinds.asserts``).
FIND_FUNCTION = """\
def find_function(namespace, name):
    owner = namespace.get("Solution")
    if owner is not None and hasattr(owner, name):
        return getattr(owner(), name)
    return namespace[name] if callable(namespace.get(name)) else None
"""

# Reads one JSON value per stdin line as the arguments, calls the function, writes the JSON result to the
# file named by SANDBOX_RESULT. The expected value is never here: the host compares.
HARNESS = FIND_FUNCTION + """\
import json, os, sys
sys.setrecursionlimit(100000)
namespace = {"__name__": "solution"}
exec(compile(open("solution.py").read(), "solution.py", "exec"), namespace)
args = [json.loads(line) for line in sys.stdin.read().splitlines() if line.strip()]
name = %s
fn = find_function(namespace, name)
if fn is None:
    sys.exit("no function or Solution method named %%r" %% name)
result = fn(*args)
with open(os.environ["SANDBOX_RESULT"], "w") as out:
    json.dump(result, out)
"""


def _stdin(code: str) -> Program:
    return Program(files={"main.py": code}, run=["python3", "main.py"], python_inproc=True)


def _function(code: str, fn_name: str) -> Program:
    return Program(files={"solution.py": PRELUDE + code, "harness.py": HARNESS % json.dumps(fn_name)},
                   run=["python3", "harness.py"], python_inproc=True)


PYTHON = Language("python", ("py", "python3", "py3"), compiled=False, stdin_program=_stdin,
                  function_program=_function)
