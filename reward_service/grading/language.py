"""Language consistency (DeepSeek-R1): the share of the chain of thought's words in the target language.

What is ignored. Fenced code (an unclosed fence runs to the end), inline code (on one line), LaTeX math
(``$…$`` within a paragraph, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``, ``\\begin{env}…\\end{env}``), any other
``\\command`` or escape, URLs, XML-like tags (``<think>``), numbers, symbols, punctuation, identifiers
(tokens with a digit or an underscore: ``x_1``, ``dp2``) and one-letter Latin/Cyrillic tokens (variables;
the price: English "a" and "I" are not counted). An opener whose closer never comes is dropped alone, not
the text after it. The stripping is a linear scan (no regex backtracking), whatever the input. Invisible
characters other than whitespace (zero-width spaces and joiners, the word joiner, BOM and every other format
character, the Hangul fillers: :func:`extract.drop_invisible`) are removed first: they neither split a word
nor make one.

What is a word. A run of letters; but each Han character and each kana counts as one unit (Chinese and
Japanese are written without spaces; a character is about one tokenizer token and a Chinese word is 1-2
characters). Hangul and Thai count by run (Korean spaces its words; Thai runs are phrases). So
"首先计算 the sum" is 4 zh units and 2 en words: a text of as many Han characters as English words
scores 0.5 for either language.

What a repeat earns: nothing. Otherwise filler buys the score (an English chain of thought plus 400 × 我
scored 0.95 for a Chinese target). A script's units (Han and kana together) are read as one stream through
the whole text, whatever sentences, numbers or other scripts' words stand between them, and a unit counts
only where it says something new:

* not in a monotonous stretch: a window of ``WINDOW`` units holding at most ``MONOTONE`` distinct ones (as
  large a share of a shorter stream) — one character, word or phrase over and over (我我我, 所以所以, 是的，
  是的, "the the", "let me check" ×10), also spread between sentences of another language, or a shuffle of
  a few — counts nothing, its first copy included; nor a word that is one string written thrice or more
  (``thethethe``: what zero-width joins leave once removed);
* not a sentence written again: a sentence whose units of the stream were all written, in order, as a
  sentence before counts nothing (filler written as sentences between honest ones counts once);
* only where the n-gram it ends (``NGRAM`` words, ``NGRAM_CHARACTERS`` Han/kana characters, with the units
  before it in its stream) is new to the text: repeated phrases count once.

So filler in the target language earns nothing in a chain of thought written in another, and at most one
copy (or an n-gram's worth per place it is put, inside honest sentences of its own script) beside honest
text. Honest text repeats words (的, 是, "the"), seldom n-grams of them: GSM8K questions, 20 to a text, keep
98.5 % of their words; CMATH questions, 20 to a text, 98.7 % of their characters; model chains of thought
that restate the problem ~84 % (math_cot_100). A text in one language still scores 1.0; a mixed one keeps
its balance where its languages repeat themselves alike. Only the units that count reach lingua and the kana
test below, so filler cannot sway the language the honest words are judged to be in either.
``details.repeated`` says how many units did not count.

Who speaks a word. Script decides where it can: Han → zh (ja in a sentence with kana, or in a text whose
Han mostly stands beside kana), kana → ja, Hangul → ko, and Greek, Hebrew, Arabic, Devanagari, Thai
likewise. Latin and Cyrillic words are judged by lingua, restricted to ``LATIN``/``CYRILLIC`` and in its
low-accuracy (trigram) mode: both detectors are built once per process in ~0.15 s and ~40 MB (high
accuracy: ~4.5 s, ~530 MB, and no better on these chunks). Lingua cannot tell languages apart from a
handful of words, so consecutive sentences of a script are grouped into chunks of at least
``CHUNK_WORDS`` words (a short tail joins the last chunk). A chunk with ``ENGLISH_SHARE`` of English-only
function words (``ENGLISH_MARKERS``) is English without asking lingua (a fast path: no chunk of the
other languages came near it in calibration). The script's dominant language is the one with the most
confidence summed over its chunks (weighted by words); a chunk keeps it unless lingua finds another
``1/CLEARLY`` times more likely. If a script has fewer than ``MIN_WORDS`` words in the whole text
("Let x be 5, so f(x) = 10."), lingua is not asked: the words count as the target language when it is
written in that script (benefit of the doubt), else as lingua's best guess. The target also wins the
dominant language when its summed confidence is within ``1/CLEARLY`` of the top.

Cost (measured on one core): a 2,000-word English chain of thought ~7 ms, a non-English one ~14 µs per
word (lingua), Chinese ~2 µs per character (~1.2 µs of it the repeat rules). Lingua runs in the calling thread
(never its ``*_in_parallel`` methods: their thread pool does not survive the fork of the grader processes).

Empty chain of thought (no countable words): score 0.0 with reason "no words to judge" — nothing was
written in the target language, and a policy must not earn the reward by writing only formulas. Words
lingua cannot place count as "und" (in the total, never the target). An unsupported target is
``invalid``. Region subtags are ignored (``en-US`` → ``en``, ``zh_Hant`` → ``zh``; ``no`` → ``nb``).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from itertools import accumulate, groupby
from typing import Any

from reward_service.grading.extract import drop_invisible
from reward_service.grading.types import Grade, Reason

__all__ = ["SUPPORTED", "detect_language", "infer_target", "language_consistency", "language_shares", "warmup"]

LATIN = ("en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb", "pl", "cs", "tr", "vi", "id", "ro",
         "fi", "hu", "ca")
CYRILLIC = ("ru", "uk", "bg")
BY_SCRIPT = {"han": "zh", "kana": "ja", "hangul": "ko", "thai": "th", "greek": "el", "hebrew": "he",
             "arabic": "ar", "devanagari": "hi"}
SUPPORTED = frozenset(LATIN + CYRILLIC + tuple(BY_SCRIPT.values()))
ALIASES = {"no": "nb", "iw": "he", "in": "id"}
PER_CHARACTER = frozenset({"han", "kana"})

# -- stripping code, math, URLs and tags -------------------------------------------------------------

_OPENER = re.compile(
    r"```|`|\$\$|\$|\\\[|\\\(|\\begin\{([^{}\n]{1,40})\}"   # delimited regions (closer looked up below)
    r"|\\[A-Za-z]+\*?|\\."                                    # other commands and escapes (\$, \\, \,)
    r"|(?:https?://|www\.)\S+"                                # URLs
    r"|</?[A-Za-z][\w-]*/?>"                                  # tags
)
_CLOSER = {"```": "```", "`": "`", "$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)"}
_BREAK = {"`": "\n", "$": "\n\n"}  # inline code stays on its line; inline math inside its paragraph
MAX_ENV_MISSES = 16  # unclosed \begin{...} of distinct names searched for before giving up (keeps it linear)


def strip_markup(text: str) -> str:
    """``text`` with code, math, commands, URLs and tags replaced by spaces. Linear time.

    Each opener looks for its closer with ``str.find``; a closer once found missing is never searched
    for again (it cannot appear further on), and the text scanned for a match is consumed by it.
    """
    out: list[str] = []
    pos, missing, env_misses = 0, set(), 0
    while (m := _OPENER.search(text, pos)) is not None:
        start, end, token = m.start(), m.end(), m.group()
        out.append(text[pos:start])
        pos = end
        closer = _CLOSER.get(token) or (f"\\end{{{m.group(1)}}}" if m.group(1) is not None else None)
        if closer is None or closer in missing or (m.group(1) is not None and env_misses >= MAX_ENV_MISSES):
            out.append(" ")
            continue
        close = text.find(closer, end)
        if close < 0 and token == "```":
            close = len(text)
        if close < 0:
            missing.add(closer)
            env_misses += m.group(1) is not None
        elif token not in _BREAK or text.find(_BREAK[token], end, close) < 0:
            pos = close + len(closer)
        out.append(" ")
    out.append(text[pos:])
    return "".join(out)


# -- scripts and words ---------------------------------------------------------------------------------

_SENTENCE = re.compile(r"[.!?;:。！？；：…\n]+")
_CJK = r"\u3041-\u3096\u309D-\u309F\u30A1-\u30FA\u30FC-\u30FF\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF" \
       r"\U00020000-\U0002FA1F"
_TOKEN = re.compile(rf"([{_CJK}]+)|((?:(?![{_CJK}])[\w\u0300-\u036F\u0900-\u097F\u0E00-\u0E7F])+)")
_SCRIPT_RANGES = (  # (first, last, script) of letters, checked in order
    (0x0041, 0x024F, "latin"), (0x1E00, 0x1EFF, "latin"), (0x0400, 0x04FF, "cyrillic"),
    (0x3040, 0x30FF, "kana"), (0x31F0, 0x31FF, "kana"), (0xAC00, 0xD7AF, "hangul"), (0x1100, 0x11FF, "hangul"),
    (0x3130, 0x318F, "hangul"), (0x0370, 0x03FF, "greek"), (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0900, 0x097F, "devanagari"), (0x0E00, 0x0E7F, "thai"),
)


@lru_cache(maxsize=8192)
def _script(ch: str) -> str:
    o = ord(ch)
    if 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or o >= 0x20000:
        return "han"
    return next((script for first, last, script in _SCRIPT_RANGES if first <= o <= last), "other")


def _pieces(token: str) -> list[tuple[str, str]]:
    """A non-ASCII token split where the script changes; combining marks stay with the letter before."""
    pieces: list[tuple[str, list[str]]] = []
    for ch in token:
        script = _script(ch) if ch.isalpha() else None
        if pieces and script in (None, pieces[-1][0]):
            pieces[-1][1].append(ch)
        else:
            pieces.append((script or "other", [ch]))
    return [(script, "".join(chars)) for script, chars in pieces]


def _words(sentence: str) -> list[tuple[str, str]]:
    """(script, word) pairs of one sentence; Han and kana give one unit per character."""
    out: list[tuple[str, str]] = []
    for cjk, token in _TOKEN.findall(sentence):
        if cjk:
            out.extend((_script(ch), ch) for ch in cjk)
        elif token.isascii():
            if token.isalpha() and len(token) > 1:
                out.append(("latin", token))
        elif "_" not in token and not any(c.isdigit() for c in token):  # else a number or an identifier
            out.extend((script, piece) for script, piece in _pieces(token)
                       if script != "other" and (len(piece) > 1 or script not in ("latin", "cyrillic")))
    return out


# -- filler: what a text repeats earns nothing -----------------------------------------------------------

NGRAM = 4             # a word counts where the n-gram it ends (among its script's units) is new to the text
NGRAM_CHARACTERS = 6  # the same for Han and kana, counted by character (a character is ~0.6 words)
WINDOW = 24           # a window of this many units in a row (of one script) ...
MONOTONE = 8          # ... holding at most this many distinct ones says nothing: none of it counts
Sentence = list[tuple[str, str]]


def _monotonous(keys: list[str]) -> bytearray:
    """1 for each key inside a window of WINDOW keys (all of them, when fewer) holding at most MONOTONE
    distinct keys (as large a share, when fewer): one unit, word or phrase of up to MONOTONE units over and
    over, or a shuffle of as few.

    In such a window at most ``limit`` keys have no copy further on inside it, so only the windows where the
    others have one within WINDOW are counted exactly (none in honest text), sliding by one in O(1), and a
    marked window skips to the one starting where it ends (when that one is marked too, none between adds)."""
    n, width = len(keys), min(WINDOW, len(keys))
    out = bytearray(n)
    if width < 3:
        return out
    limit, earlier, later = width * MONOTONE // WINDOW, [-1] * n, [n] * n
    last: dict[str, int] = {}
    for j, key in enumerate(keys):
        if (i := last.get(key, -1)) >= 0:
            earlier[j], later[i] = i, j
        last[key] = j
    close = list(accumulate((later[i] - i < width for i in range(n)), initial=0))
    before, distinct, skip = -2, 0, -1
    for start in (s for s in range(n - width + 1) if close[s + width] - close[s] >= width - limit):
        if start <= skip:
            continue
        if start == before + 1:  # slid by one: key ``before`` left (its next copy may now be a first one)
            distinct += (later[before] < before + width) + (earlier[start + width - 1] <= before) - 1
        else:
            distinct = len(set(keys[start:start + width]))
        before, jump, marked = start, start, distinct <= limit
        while marked:
            out[jump:jump + width] = b"\x01" * width
            skip, jump = jump, jump + width - 1
            marked = jump <= n - width and len(set(keys[jump:jump + width])) <= limit
    return out


def _looped(key: str) -> bool:
    """A word that is one string written three or more times (``thethethe``: what zero-width joins leave)."""
    period = (key + key).find(key, 1)  # the shortest period (linear)
    return len(key) % period == 0 and len(key) // period >= 3


def _counted(stream: str, where: list[int], keys: list[str], sentence_of: list[int]) -> list[int]:
    """Of one stream's units (``where``: their indexes in the text, in order), those that count: not in a
    monotonous stretch nor a looped word, not in a sentence whose units of this stream were all written, in
    order, as a sentence before, and ending an n-gram new to the text."""
    own = [keys[i] for i in where]
    dull = _monotonous(own)
    if stream != "cjk":  # a character is no word written thrice
        dull = bytearray(mark or (len(key) > 2 and _looped(key)) for mark, key in zip(dull, own, strict=True))
    live = [i for i, mark in zip(where, dull, strict=True) if not mark]
    again, written = set(), set()
    for sentence, indexes in groupby(live, sentence_of.__getitem__):
        whole = tuple(map(keys.__getitem__, indexes))
        if whole in written:
            again.add(sentence)
        written.add(whole)
    n = NGRAM_CHARACTERS if stream == "cjk" else NGRAM
    padded = [""] * (n - 1) + [keys[i] for i in live]  # "" stands for the start of the text
    grams = list(zip(*(padded[k:] for k in range(n)), strict=False))
    first = dict(zip(reversed(grams), range(len(grams) - 1, -1, -1), strict=True))  # each gram's first place
    return [live[j] for j in sorted(first.values()) if sentence_of[live[j]] not in again]


def _informative(sentences: list[Sentence]) -> list[Sentence]:
    """``sentences`` without the units that earn nothing (see the module docstring)."""
    units = [unit for ws in sentences for unit in ws]
    keys = [word.lower() for _, word in units]
    sentence_of = [k for k, ws in enumerate(sentences) for _ in ws]
    streams: dict[str, list[int]] = {}
    for index, (script, _) in enumerate(units):
        streams.setdefault("cjk" if script in PER_CHARACTER else script, []).append(index)
    counted = sorted(index for stream, where in streams.items()
                     for index in _counted(stream, where, keys, sentence_of))
    out: list[Sentence] = [[] for _ in sentences]
    for index in counted:
        out[sentence_of[index]].append(units[index])
    return out


# -- lingua for Latin and Cyrillic ---------------------------------------------------------------------

LINGUA = {"latin": LATIN, "cyrillic": CYRILLIC}
MIN_WORDS = 8        # fewer words of a script in the whole text: lingua is not asked (see the docstring)
CHUNK_WORDS = 16     # lingua judges chunks of at least this many words
CLEARLY = 0.02       # a chunk leaves the reference language only for one 50× more likely
ENGLISH_SHARE = 0.2   # a chunk with this share of ENGLISH_MARKERS is English without asking lingua
ENGLISH_MARKERS = frozenset(
    "the and that this these those with are was were been have has had not but what which who whose they "
    "them their there then than if can could should would because from its it our us how each only when "
    "where now we you your let need wait check first next since why does did make same other into about be "
    "being any some more most".split())  # function words of English that are rare words elsewhere in LATIN


@lru_cache(maxsize=2)
def _detector(script: str) -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in LINGUA[script]]
    return (LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models()
            .with_low_accuracy_mode().build())


def _confidences(script: str, words: list[str]) -> dict[str, float]:
    """Language → confidence for ``words``: the English marker shortcut, else lingua (all 0.0: no idea)."""
    if script == "latin" and sum(w.lower() in ENGLISH_MARKERS for w in words) >= ENGLISH_SHARE * len(words):
        return {"en": 1.0}
    values = _detector(script).compute_language_confidence_values(" ".join(words))
    return {v.language.iso_code_639_1.name.lower(): v.value for v in values}


def _pick(values: dict[str, float], reference: str | None) -> str:
    """The most likely language, or ``reference`` unless another is clearly more likely."""
    top = max(values, key=values.__getitem__, default=None)
    if top is None or values[top] <= 0:
        return reference or "und"
    return reference if reference and values.get(reference, 0.0) >= CLEARLY * values[top] else top


def _chunks(sentences: list[list[str]]) -> list[list[str]]:
    """Consecutive sentences grouped until each group has CHUNK_WORDS words; the rest joins the last."""
    chunks: list[list[str]] = [[]]
    for words in sentences:
        if len(chunks[-1]) >= CHUNK_WORDS:
            chunks.append([])
        chunks[-1].extend(words)
    if len(chunks) > 1 and len(chunks[-1]) < CHUNK_WORDS:
        chunks[-2].extend(chunks.pop())
    return chunks


def _count_script(script: str, sentences: list[list[str]], target: str | None) -> Counter[str]:
    """Word counts by language for the words of one lingua script (see the module docstring)."""
    words = [w for ws in sentences for w in ws]
    if not words:
        return Counter()
    own = target if target in LINGUA[script] else None
    if len(words) < MIN_WORDS:
        return Counter({own or _pick(_confidences(script, words), None): len(words)})
    chunks = _chunks(sentences)
    judged = [(len(chunk), _confidences(script, chunk)) for chunk in chunks]
    mass: Counter[str] = Counter()
    for n, values in judged:
        mass.update({code: n * value for code, value in values.items()})
    dominant = _pick(dict(mass), own)
    counts: Counter[str] = Counter()
    for n, values in judged:
        counts[_pick(values, dominant)] += n
    return counts


# -- counting --------------------------------------------------------------------------------------------

def language_shares(text: str, target: str | None = None) -> Counter[str]:
    """Word counts by language (ISO 639-1; "und" when lingua cannot tell) by the module's counting rule,
    repeats not counted (see the module docstring).

    ``target`` only settles what lingua cannot: the language of too few Latin/Cyrillic words to judge.
    """
    return _tally(text, target)[0]


def _tally(text: str, target: str | None) -> tuple[Counter[str], int]:
    """(word counts by language, how many units were not counted as repeats)."""
    written = [ws for s in _SENTENCE.split(strip_markup(drop_invisible(text))) if (ws := _words(s))]
    sentences = _informative(written)
    repeated = sum(map(len, written)) - sum(map(len, sentences))
    counts: Counter[str] = Counter()
    han_beside_kana = han_alone = 0
    for ws in sentences:
        n_han = sum(s == "han" for s, _ in ws)
        if any(s == "kana" for s, _ in ws):
            han_beside_kana += n_han
            counts["ja"] += n_han
        else:
            han_alone += n_han
        for script, _ in ws:
            if script in BY_SCRIPT and script != "han":
                counts[BY_SCRIPT[script]] += 1
    if han_alone:
        counts["ja" if han_beside_kana > han_alone else "zh"] += han_alone
    for script in ("latin", "cyrillic"):
        counts += _count_script(script, [[w for s, w in ws if s == script] for ws in sentences], target)
    return +counts, repeated


def _normalize(code: str) -> str:
    code = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return ALIASES.get(code, code)


def language_consistency(text: str, target: str) -> Grade:
    """Share of ``text``'s words in ``target`` (ISO 639-1), in [0, 1]."""
    target = _normalize(target)
    if target not in SUPPORTED:
        return Grade.invalid(Reason.unsupported_language, f"unsupported target language {target!r}")
    counts, repeated = _tally(text, target)
    total = sum(counts.values())
    if total == 0:
        return Grade.ok(0.0, Reason.too_short, "no words to judge", words=0, target_words=0, by_language={},
                          repeated=repeated)
    hits = counts[target]
    return Grade.ok(hits / total, words=total, target_words=hits, by_language=dict(counts.most_common()),
                      repeated=repeated)


def infer_target(prompt: str, reasoning: str) -> tuple[str, str]:
    """(target, where it came from) for an item that names none: the prompt's language. But lingua cannot tell
    the languages of one script apart from a few words ("Calcula la suma de 2 y 3." reads as Catalan), so when
    the prompt has fewer than ``MIN_WORDS`` words of its Latin or Cyrillic script, the chain of thought's
    dominant language of that script is the target: a short Spanish prompt answered in Spanish is consistent,
    and a chain of thought that mixes languages still scores the share of its main one. English is never
    taken that way: a short English prompt is recognised by its function words (``ENGLISH_MARKERS``), and
    English is the language policies drift into, so a short French prompt answered in English scores 0. No
    words in the prompt: English."""
    counts = language_shares(prompt)
    top = next((code for code, _ in counts.most_common() if code != "und"), None)
    if top is None:
        return "en", "default (no words in the prompt; set target_language)"
    script = next((name for name, codes in LINGUA.items() if top in codes), None)
    if script is None or top == "en":
        return top, "prompt"
    words = sum(s == script for sentence in _SENTENCE.split(strip_markup(prompt)) for s, _ in _words(sentence))
    if words >= MIN_WORDS:
        return top, "prompt"
    spoken = language_shares(reasoning)
    best = max((code for code in LINGUA[script] if code != "en"), key=lambda code: spoken[code])
    if spoken[best] == 0:
        return top, f"prompt (a guess: {words} {script} words)"
    return best, f"chain of thought (the prompt's {words} {script} words cannot tell {script} languages apart)"


def detect_language(text: str) -> str | None:
    """The dominant language of ``text`` by the same counting rule; None when it has no words."""
    return next((code for code, _ in language_shares(text).most_common() if code != "und"), None)


def warmup() -> None:
    """Build both lingua detectors once (in the parent of forked graders their pages are shared)."""
    _detector("latin")
    _detector("cyrillic")
    language_consistency("Nous calculons d'abord la somme des dix premiers termes de la suite. Привет, мир!", "en")
