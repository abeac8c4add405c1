"""Language consistency (DeepSeek-R1): the share of the chain of thought's words in the target language.

Counting rule. Code (fenced and inline), LaTeX (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``, environments,
``\\commands``), URLs, numbers, symbols and one-letter tokens (variables) are removed first. What remains is
split into words: a run of letters is one word; in scripts written without spaces each Han character, kana
character or Hangul syllable block is one word unit (so a Chinese sentence counts about as many units as
it has characters; an English one as many as it has words).

Who speaks a word. Where the script tells, the script decides (Han → zh, and ja when the target is
Japanese; kana → ja; Hangul → ko; Thai, Greek, Hebrew, Arabic, Devanagari likewise). Latin and Cyrillic
words are judged by sentence with lingua (a statistical language identifier with bundled models), restricted
to the languages below and in its low-accuracy (trigram) mode: ~60 MB per process instead of ~700 MB, and
about 15-35 ms for a 2,000-word chain of thought; a sentence too short to judge (< 6 words) takes the language of all the text's words in
that script together, so a stray "Let x = 5." inside English reasoning counts as English; a longer sentence
keeps the dominant language too unless lingua finds another at least twice as likely.

An empty chain of thought (no countable words) scores 0.0 with a reason: there is nothing in the target
language. An unsupported target is ``invalid``.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any

from reward_service.grading.types import Verdict

LATIN = ("en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb", "pl", "cs", "tr", "vi", "id", "ro",
         "fi", "hu", "ca")
CYRILLIC = ("ru", "uk", "bg")
BY_SCRIPT = {"han": "zh", "kana": "ja", "hangul": "ko", "thai": "th", "greek": "el", "hebrew": "he",
             "arabic": "ar", "devanagari": "hi"}
SUPPORTED = frozenset(LATIN + CYRILLIC + tuple(BY_SCRIPT.values()))
MIN_SENTENCE_WORDS = 6  # shorter sentences take the text's dominant language in their script
CLEARLY = 0.5  # another language must be twice as likely as the dominant one to claim a sentence

_STRIP = re.compile(
    r"```.*?(?:```|\Z)"                      # fenced code (an unclosed fence runs to the end)
    r"|`[^`\n]*`"                            # inline code
    r"|\$\$.*?\$\$|\$[^$]*\$"                # $$…$$ and $…$
    r"|\\\[.*?\\\]|\\\(.*?\\\)"              # \[…\] and \(…\)
    r"|\\begin\{(\w+\*?)\}.*?\\end\{\1\}"    # LaTeX environments
    r"|\\[A-Za-z]+"                          # remaining \commands
    r"|https?://\S+",                        # URLs
    re.DOTALL,
)
_SENTENCE = re.compile(r"[.!?;:。！？；：\n]+")
_TOKEN = re.compile(r"[^\W\d_]+")


def _script(ch: str) -> str:
    o = ord(ch)
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F:
        return "han"
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF:
        return "kana"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
        return "hangul"
    if o < 0x0250 or 0x1E00 <= o <= 0x1EFF:
        return "latin"
    if 0x0400 <= o <= 0x04FF:
        return "cyrillic"
    if 0x0370 <= o <= 0x03FF:
        return "greek"
    if 0x0590 <= o <= 0x05FF:
        return "hebrew"
    if 0x0600 <= o <= 0x06FF:
        return "arabic"
    if 0x0900 <= o <= 0x097F:
        return "devanagari"
    if 0x0E00 <= o <= 0x0E7F:
        return "thai"
    return "other"


@lru_cache(maxsize=2)
def _detector(script: str) -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    codes = LATIN if script == "latin" else CYRILLIC
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    return (LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models()
            .with_low_accuracy_mode().build())


def _identify(script: str, text: str) -> str | None:
    found = _detector(script).detect_language_of(text)
    return found.iso_code_639_1.name.lower() if found is not None else None


def _sentence_language(script: str, text: str, dominant: str | None) -> str | None:
    """The sentence's language, keeping the text's dominant one unless another is clearly more likely."""
    values = _detector(script).compute_language_confidence_values(text)
    if not values or values[0].value == 0:
        return dominant
    top = values[0]
    top_code = top.language.iso_code_639_1.name.lower()
    if dominant is None or top_code == dominant:
        return top_code
    dominant_value = next((v.value for v in values if v.language.iso_code_639_1.name.lower() == dominant), 0.0)
    return dominant if dominant_value >= CLEARLY * top.value else top_code


def _words(sentence: str) -> list[tuple[str, str]]:
    """(script, word) pairs; unspaced scripts give one unit per character."""
    out = []
    for token in _TOKEN.findall(sentence):
        run: list[str] = []
        run_script = None
        for ch in token:
            script = _script(ch)
            if script in ("han", "kana", "hangul", "thai"):
                if run:
                    out.append((run_script, "".join(run)))
                    run = []
                out.append((script, ch))
                continue
            if run and script != run_script:
                out.append((run_script, "".join(run)))
                run = []
            run_script = script
            run.append(ch)
        if run:
            out.append((run_script, "".join(run)))
    return [(s, w) for s, w in out if s != "other" and (len(w) > 1 or s in ("han", "kana", "hangul", "thai"))]


def language_shares(text: str) -> Counter[str]:
    """Word counts by language (ISO 639-1) for ``text``, by the module's counting rule."""
    sentences = [_words(s) for s in _SENTENCE.split(_STRIP.sub(" ", text))]
    counts: Counter[str] = Counter()
    dominant: dict[str, str | None] = {}
    for script in ("latin", "cyrillic"):
        whole = " ".join(w for words in sentences for s, w in words if s == script)
        if whole:
            dominant[script] = _identify(script, whole)
    for words in sentences:
        by_script: dict[str, list[str]] = {}
        for script, word in words:
            by_script.setdefault(script, []).append(word)
        for script, ws in by_script.items():
            if script in BY_SCRIPT:
                lang = BY_SCRIPT[script]
            elif len(ws) >= MIN_SENTENCE_WORDS:
                lang = _sentence_language(script, " ".join(ws), dominant[script])
            else:
                lang = dominant[script]
            counts[lang or "und"] += len(ws)
    return counts


def language_consistency(text: str, target: str) -> Verdict:
    """Share of ``text``'s words in ``target`` (ISO 639-1), in [0, 1]."""
    target = target.lower().split("-")[0]
    if target not in SUPPORTED:
        return Verdict.invalid(f"unsupported target language {target!r}")
    counts = language_shares(text)
    total = sum(counts.values())
    if total == 0:
        return Verdict.ok(0.0, reason="no words to judge", words=0, target_words=0, by_language={})
    hits = counts[target] + (counts["zh"] if target == "ja" else 0)  # Japanese is written with kanji too
    return Verdict.ok(hits / total, words=total, target_words=hits, by_language=dict(counts.most_common(5)))


def detect_language(text: str) -> str | None:
    """The dominant language of ``text`` by the same counting rule; None when it has no words."""
    counts = language_shares(text)
    return counts.most_common(1)[0][0] if counts else None


def warmup() -> None:
    """Load both lingua models once (in the parent of forked graders, pages are shared copy-on-write)."""
    _detector("latin")
    _detector("cyrillic")
