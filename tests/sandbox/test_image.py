"""The sandbox image is built once per host, however many grader processes find it missing at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import docker.errors

from sandbox import image


class SlowBuilds:
    """A stand-in for the engine's image API (a real build takes minutes): counts builds."""

    def __init__(self) -> None:
        self.built: set[str] = set()
        self.builds = 0
        self._lock = threading.Lock()
        self.images = self

    def get(self, tag: str) -> SlowBuilds:
        if tag not in self.built:
            raise docker.errors.ImageNotFound(tag)
        return self

    def tag(self, *_: str) -> None:
        pass

    def build(self, tag: str, **_: object) -> None:
        with self._lock:
            self.builds += 1
        time.sleep(0.2)
        self.built.add(tag)


def test_concurrent_graders_build_the_image_once():
    client = SlowBuilds()
    with ThreadPoolExecutor(6) as pool:  # each call opens the lock file itself, as separate processes do
        tags = list(pool.map(lambda _: image.ensure_image(client), range(6)))
    assert tags == [image.image_tag()] * 6 and client.builds == 1
