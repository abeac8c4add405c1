import pytest

from reward_service.grading.length import cosine_scaled, overlong_penalty


@pytest.mark.parametrize(("length", "expected"), [(0, 0.0), (12, 0.0), (13, -0.25), (16, -1.0), (100, -1.0)])
def test_dapo_soft_overlong(length, expected):
    # L_max 16, L_cache 4: free up to 12, linear ramp to -1 at 16, -1 beyond.
    assert overlong_penalty(length, 16, 4) == pytest.approx(expected)


def test_dapo_rejects_bad_window():
    with pytest.raises(ValueError):
        overlong_penalty(1, 10, 11)


def test_cosine_prefers_short_correct_and_long_wrong():
    assert cosine_scaled(0, True, 100) == pytest.approx(1.0)
    assert cosine_scaled(100, True, 100) == pytest.approx(0.5)
    assert cosine_scaled(0, False, 100) == pytest.approx(-1.0)
    assert cosine_scaled(100, False, 100) == pytest.approx(-0.5)
    assert cosine_scaled(50, True, 100) == pytest.approx(0.75)
    assert cosine_scaled(500, True, 100) == pytest.approx(0.5)  # clamped past max_length
