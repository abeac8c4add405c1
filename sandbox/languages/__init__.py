"""Languages the sandbox runs. Adding one: a module here with its :class:`Language` (how to compile and run a
program), a line below, and its toolchain in the image (``sandbox/Dockerfile``; bubblewrap uses the host's
``/usr``). Function-call tests in it need a harness generator in :mod:`sandbox.harness` (Python has its own)."""

from __future__ import annotations

from sandbox.languages.base import Language, Program
from sandbox.languages.cpp import CPP
from sandbox.languages.go import GO
from sandbox.languages.java import JAVA
from sandbox.languages.javascript import JAVASCRIPT
from sandbox.languages.python import PYTHON
from sandbox.languages.rust import RUST

LANGUAGES: dict[str, Language] = {lang.name: lang for lang in (PYTHON, CPP, JAVA, JAVASCRIPT, GO, RUST)}
ALIASES: dict[str, str] = {alias: lang.name for lang in LANGUAGES.values() for alias in (lang.name, *lang.aliases)}


def get_language(name: str) -> Language | None:
    """The language for a name or fence alias (``py``, ``c++``…), case-insensitive; None if unknown."""
    canonical = ALIASES.get(name.strip().lower())
    return LANGUAGES[canonical] if canonical else None


__all__ = ["ALIASES", "LANGUAGES", "Language", "Program", "get_language"]
