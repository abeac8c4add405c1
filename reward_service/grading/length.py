"""Length shaping, both opt-in.

* DAPO's soft overlong punishment (Yu et al., 2025, eq. 13): 0 up to ``max_length - cache_length``, then a
  linear ramp down to -1 at ``max_length``, and -1 beyond. Added to the reward, so it only ever subtracts.
* Cosine length scaling (Yeo et al., 2025, "Demystifying Long CoT"): a correct answer earns between
  ``max_correct`` (length 0) and ``min_correct`` (length ``max_length``); a wrong one between ``min_wrong``
  (length 0) and ``max_wrong`` (length ``max_length``), so short wrong answers are punished most.
"""

from __future__ import annotations

import math


def overlong_penalty(length: int, max_length: int, cache_length: int) -> float:
    """DAPO soft overlong punishment in [-1, 0]."""
    if max_length <= 0 or not 0 <= cache_length <= max_length:
        raise ValueError("need max_length > 0 and 0 <= cache_length <= max_length")
    expected = max_length - cache_length
    if length <= expected:
        return 0.0
    if length <= max_length and cache_length > 0:
        return (expected - length) / cache_length
    return -1.0


def cosine_scaled(length: int, correct: bool, max_length: int, *, min_correct: float = 0.5,
                  max_correct: float = 1.0, min_wrong: float = -1.0, max_wrong: float = -0.5) -> float:
    """Cosine length-scaled correctness reward (open-r1's defaults)."""
    if max_length <= 0:
        raise ValueError("max_length must be > 0")
    progress = min(max(length, 0), max_length) / max_length
    cosine = math.cos(progress * math.pi)  # 1 at length 0, -1 at max_length
    start, end = (max_correct, min_correct) if correct else (min_wrong, max_wrong)
    return end + 0.5 * (start - end) * (1.0 + cosine)
