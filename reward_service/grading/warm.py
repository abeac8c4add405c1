"""Imported by the grader pool's forkserver: loads and exercises every grader once, before any fork.

Each grader process is then a fork that shares these pages copy-on-write and needs no warm-up of its own,
so a process killed at its time limit is replaced in milliseconds, not seconds.
"""

from reward_service.grading import language, math
from reward_service.grading.ifeval import text as ifeval_text

math.warmup()
language.warmup()
ifeval_text.warmup()
