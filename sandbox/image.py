"""The sandbox image: built from sandbox/Dockerfile, tagged by the hash of what goes in, never pulled."""

from __future__ import annotations

import hashlib
import logging
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
    """The image's tag; builds it when missing (and ``build``), else raises ``LookupError``."""
    import docker.errors
    tag = image_tag()
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        if not build:
            raise LookupError(f"sandbox image {tag} is not built: run `python -m sandbox build`") from None
    log.info("building sandbox image %s", tag)
    client.images.build(path=str(CONTEXT), dockerfile="Dockerfile", tag=tag, rm=True, pull=False)
    client.images.get(tag).tag(REPOSITORY, "latest")
    return tag


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
