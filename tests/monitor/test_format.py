import math

import pytest

from hypertui.monitor import format as fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1_243_320_305.98, "$1.24B"),
        (48_211_007.3, "$48.2M"),
        (12_345, "$12.3K"),
        (999.4, "$999"),
        (999_600, "$1.00M"),  # rounds up into the next unit, not "$1000K"
        (123_456_789, "$123M"),
        (-61_502_594.37, "-$61.5M"),
        (0, "$0"),
        (None, fmt.DASH),
        (math.nan, fmt.DASH),
    ],
)
def test_money(value, text):
    assert fmt.money(value) == text


def test_counts_bias_and_shares():
    assert fmt.count(23755) == "23,755"
    assert fmt.signed(0.8105) == "+0.81"
    assert fmt.signed(-0.12) == "-0.12"
    assert fmt.long_share(0.626) == "62.6%"
    assert fmt.long_share(0.39) == "39.0%"
    assert fmt.long_share(None) == fmt.DASH
    assert fmt.percent(0.02, 2) == "0.02%"
    assert fmt.signed_count(1204) == "+1,204"
    assert fmt.signed_count(-37) == "-37"
    assert fmt.signed_count(0) == "0"


@pytest.mark.parametrize(
    ("shown", "text"),
    [
        (fmt.signed(-0.001), "0.00"),
        (fmt.signed(0.004), "0.00"),
        (fmt.signed(-0.0), "0.00"),
        (fmt.signed(-0.006), "-0.01"),
        (fmt.signed(-0.04, 1), "0.0"),
        (fmt.ratio(-0.001), "0.00"),
        (fmt.percent(-0.04), "0.0%"),
        (fmt.money(-0.4), "$0"),
        (fmt.money(-0.6), "-$1"),
        (fmt.count(-0.4), "0"),
    ],
)
def test_a_value_that_rounds_to_zero_prints_no_minus(shown, text):
    assert shown == text


def test_direction_reads_without_colour():
    assert fmt.direction(0.81, 0.05) == "▲"
    assert fmt.direction(-0.3, 0.05) == "▼"
    assert fmt.direction(0.01, 0.05) == "·"
    assert fmt.direction(None) == " "


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(4.9, "<1m"), (59.9, "<1m"), (65, "1m"), (3599, "59m"), (3600 * 2 + 14 * 60, "2h14m"), (86400 * 3 + 3600 * 4, "3d04h"), (-3, "<1m")],
)
def test_age(seconds, text):
    assert fmt.age(seconds) == text


def test_interval():
    assert fmt.interval(None) == "auto"
    assert fmt.interval(15.0) == "15s"
    assert fmt.interval(300.0) == "5m"
    assert fmt.interval(90.0) == "90s"
