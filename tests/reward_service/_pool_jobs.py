"""Jobs for the pool tests: importable by dotted name from the grader processes."""

import os
import time


def echo(x):
    return x


def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def die():
    os._exit(3)


def fail():
    raise ValueError("bad input")


def pid():
    return os.getpid()
