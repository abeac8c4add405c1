"""The sandbox image: built from sandbox/Dockerfile, tagged by the hash of what goes in, never pulled."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CONTEXT = Path(__file__).resolve().parent
REPOSITORY = "reward-sandbox"
_INPUTS = ("Dockerfile", "runner.py")


def image_tag() -> str:
    """``reward-sandbox:<hash>``: a change to the Dockerfile or the runner makes a new image."""
    digest = hashlib.sha256()
    for name in _INPUTS:
        digest.update((CONTEXT / name).read_bytes())
    return f"{REPOSITORY}:{digest.hexdigest()[:12]}"


def ensure_image(client: Any, build: bool = True) -> str:
    """The image's tag; builds it when missing (and ``build``), else raises ``LookupError``. Processes of one
    host that need it at once (every code grader of a fresh service) build it once: the first builds, under
    a file lock, and the others find it built when they get the lock."""
    tag = image_tag()
    if _present(client, tag):
        return tag
    if not build:
        raise LookupError(f"sandbox image {tag} is not built: run `python -m sandbox build`")
    lock_path = Path(tempfile.gettempdir()) / f"{tag.replace(':', '-')}.build.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _present(client, tag):
            log.info("building sandbox image %s", tag)
            client.images.build(path=str(CONTEXT), dockerfile="Dockerfile", tag=tag, rm=True, pull=False)
            client.images.get(tag).tag(REPOSITORY, "latest")
    return tag


def _present(client: Any, tag: str) -> bool:
    import docker.errors
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def remove_old_images(client: Any) -> int:
    """Remove ``reward-sandbox`` images of earlier Dockerfiles or runners that no container uses."""
    import docker.errors
    current = client.images.get(image_tag()).id
    removed = 0
    for image in client.images.list(name=REPOSITORY):
        if image.id == current:
            continue
        try:
            client.images.remove(image.id, force=False)
            removed += 1
        except docker.errors.APIError:
            pass  # in use, or already gone
    return removed
