# The test process of sandbox/kinds/asserts.py: runs a data set's test code with the candidate behind a proxy, in a
# sandbox of its own (the test code is the caller's: it gets the same wall as the candidate's code).
# Not imported: its source follows assert_values.py's (which defines encode and decode) in one file, run in
# the sandbox's interpreter, which has nothing of ours.
# Messages are JSON lines: the setup and each call's reply come on stdin; calls and the end go to stdout.
import builtins
import json
import os
import traceback

_recv, _send = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
_null = os.open(os.devnull, os.O_RDWR)
for _fd in (0, 1, 2):  # what the test code prints goes nowhere, and it cannot read or forge our messages
    os.dup2(_null, _fd)


def _message(payload):
    _send.write(json.dumps(payload).encode() + b"\n")
    _send.flush()


class _FromCandidate(Exception):
    """An exception the candidate raised, of a type that is not a built-in one, or one that would steer the
    test's control flow rather than fail it."""


# Raised through the proxy these would end a loop or the test itself early (``all(map(candidate, ...))``
# stops at a StopIteration and passes): they arrive as _FromCandidate, a failure, as PEP 479 does.
_STEERING = ("StopIteration", "StopAsyncIteration", "GeneratorExit", "KeyboardInterrupt", "SystemExit")


class _Aborted(BaseException):
    """The candidate failed for good (time, memory, a crash): the host has its verdict; the test ends here."""


class Candidate:
    """Stands for one of the candidate's functions; each call is a run in the sandbox."""

    calls = 0

    def __init__(self, name):
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        Candidate.calls += 1
        if Candidate.calls > _setup["max_calls"]:
            raise _Aborted()
        try:
            call = {"name": self.__name__, "args": encode(list(args)),  # type: ignore[name-defined] # noqa: F821
                    "kwargs": {str(k): encode(v) for k, v in kwargs.items()}}  # type: ignore[name-defined] # noqa: F821
        except TypeError as exc:
            raise TypeError(f"the test passed the candidate something that is not plain data: {exc}") from None
        _message({"call": call})
        line = _recv.readline()
        if not line:
            raise _Aborted()
        reply = json.loads(line)
        if "value" in reply:
            return decode(reply["value"])  # type: ignore[name-defined] # noqa: F821
        if "raised" in reply:
            kind, text = reply["raised"]
            cls = getattr(builtins, kind, None)
            if kind in _STEERING or not (isinstance(cls, type) and issubclass(cls, Exception)):
                cls = _FromCandidate
                text = f"{kind}: {text}"
            error = cls(text)
            error._from_candidate = True
            raise error
        raise _Aborted()

    def __repr__(self):
        return f"<candidate {self.__name__}>"


class _Names(dict):
    """Builtins, then the candidate's functions: a name the tests (and their setup) use but never define is
    the candidate's; ``borrowed`` records which."""

    borrowed: set[str] = set()

    def __missing__(self, name):
        if name.startswith("__"):
            raise KeyError(name)
        _Names.borrowed.add(name)
        return Candidate(name)


def _line(exc):
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == "<tests>":
            return frame.lineno
    return None


def _run(setup):
    namespace = {"__name__": "__tests__", "__builtins__": _Names(builtins.__dict__)}
    if setup.get("setup"):  # the problem's own code (HumanEval's prompt): its helpers are the problem's
        exec(compile(setup["setup"], "<setup>", "exec"), namespace)
    candidate = Candidate(setup["entry_point"])
    namespace[setup["entry_point"]] = candidate
    exec(compile(setup["code"], "<tests>", "exec"), namespace)
    check = namespace.get("check")
    if setup["call_check"] or (Candidate.calls == 0 and callable(check) and not isinstance(check, Candidate)):
        check(candidate)


_setup = json.loads(_recv.readline())
try:
    _run(_setup)
except _Aborted:
    _message({"done": {"ok": False, "type": "aborted"}})
except BaseException as _exc:
    _message({"done": {"ok": False, "type": type(_exc).__name__, "message": str(_exc)[:2000],
                       "line": _line(_exc), "candidate": bool(getattr(_exc, "_from_candidate", False))}})
else:
    _message({"done": {"ok": True, "calls": Candidate.calls, "borrowed": sorted(_Names.borrowed)}})
