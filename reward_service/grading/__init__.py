"""Pure grading functions: extract, then grade. No HTTP, no queue, no process management here.

Each grader returns a :class:`~reward_service.grading.types.Grade` that says *why* (ok / invalid / error,
and a reason code), never a bare bool; hard time limits are enforced by the caller at a process boundary.
"""
