import pytest
from rich.color import Color, ColorSystem

from hypertui.api.models import HeatmapRow, Segment
from hypertui.monitor.heat import (
    GLYPHS,
    PALETTES,
    Palette,
    cell_detail,
    change_cell,
    magnitude_cell,
    magnitude_level,
    share_cell,
    share_level,
)

RED_GREEN, ORANGE_BLUE = PALETTES


@pytest.mark.parametrize(
    ("share", "level"),
    [
        (0.0, -4),
        (0.1, -4),
        (0.3, -3),
        (0.7, 3),
        (0.45, -1),
        (0.5, 0),
        (0.51, 0),
        (0.55, 1),
        (0.62, 2),
        (0.8, 3),
        (1.0, 4),
    ],
)
def test_share_levels_are_symmetric_bands(share, level):
    assert share_level(share) == level
    assert share_level(1 - share) == -level


def test_share_cell_reads_without_colour():
    assert share_cell(0.62, RED_GREEN).text == "▒▲62%"
    assert share_cell(0.38, RED_GREEN).text == "▒▼38%"
    assert share_cell(0.5, RED_GREEN).text == " ·50%"
    assert {GLYPHS[abs(share_level(s / 100))] for s in range(0, 101, 5)} == set(GLYPHS)


def test_diverging_colours():
    neutral = share_cell(0.5, RED_GREEN)
    assert neutral.background == RED_GREEN.neutral
    assert share_cell(1.0, RED_GREEN).background == RED_GREEN.high
    assert share_cell(0.0, RED_GREEN).background == RED_GREEN.low
    # The colour-blind-safe palette differs at the ends, agrees at the middle.
    assert share_cell(1.0, ORANGE_BLUE).background == ORANGE_BLUE.high != RED_GREEN.high
    assert share_cell(0.5, ORANGE_BLUE).background == neutral.background
    # Quantised: values in one band share a style (no restyling for small moves).
    assert share_cell(0.56, RED_GREEN).background == share_cell(0.59, RED_GREEN).background


def _palettes_shipped() -> list[Palette]:
    """Every palette `c` can show: each shipped theme's, then the built-in ones on its neutral."""
    from hypertui.ui.signals import Signals
    from hypertui.ui.themes import SHIPPED_DIR, load_themes

    themes, problems = load_themes([SHIPPED_DIR])
    assert themes and not problems
    return [*PALETTES, *(p for theme in themes.values() for p in Signals.of(theme.variables).palettes())]


@pytest.mark.parametrize("palette", _palettes_shipped(), ids=lambda p: f"{p.name}-on-{p.neutral}")
def test_every_share_bucket_keeps_its_side_in_256_colours(palette):
    """Rich downgrades each cell's background for a 256-colour terminal: a quarter of the way from
    the neutral, the lightest long and short buckets landed on one xterm colour (59)."""

    def xterm(share: float) -> int:
        return Color.parse(share_cell(share, palette).background).downgrade(ColorSystem.EIGHT_BIT).number

    shares = [s / 100 for s in range(101)]
    neutral = {xterm(s) for s in shares if share_level(s) == 0}
    long = {xterm(s) for s in shares if share_level(s) > 0}
    short = {xterm(s) for s in shares if share_level(s) < 0}
    assert {share_level(s) for s in shares} == set(range(-4, 5))  # every bucket seen
    assert len(neutral) == 1 and not neutral & long and not neutral & short and not long & short


def test_magnitude_is_log_scaled_and_bounded():
    largest = 1e9
    levels = [magnitude_level(v, largest) for v in (1, 1e4, 1e7, 1e8, 1e9)]
    assert levels == sorted(levels) and levels[0] >= 1 and levels[-1] == 4
    assert magnitude_level(0, largest) == 0
    assert magnitude_cell(48_211_007.3, largest, "value", RED_GREEN).text.endswith("$48.2M")
    assert magnitude_cell(9120, 20000, "count", RED_GREEN).text.endswith("9,120")


@pytest.mark.parametrize(
    ("value", "mode", "short"),
    [(5_370_000, "value", "$5.4M"), (48_211_007.3, "value", "$48M"), (999_700, "value", "$1.0M"),
     (950, "value", "$950"), (24_992, "count", "25K"), (9120, "count", "9.1K")],
)
def test_a_value_cell_has_a_shorter_text_that_keeps_the_glyph(value, mode, short):
    cell = magnitude_cell(value, 1e9, mode, RED_GREEN)
    assert cell.short == cell.text[0] + short and cell.text[0] in GLYPHS[1:]
    assert len(cell.short) <= 6  # glyph and value in a 7-wide cell, with a space to its neighbour


def _btc_row() -> HeatmapRow:
    """BTC in Fish (1, with long/short counts) and Dolphin (2, without)."""
    return HeatmapRow.model_validate({
        "coin": "BTC", "totalValue": 1243320305.98, "totalLongValue": 621660152.99, "totalShortValue": 621660152.99,
        "count": 23755, "countLong": 12046, "countShort": 11709,
        "segments": [{"segmentId": 1, "totalValue": 48211007.3, "totalLongValue": 26530114.9,
                      "totalShortValue": 21680892.4, "count": 9120, "countLong": 5102, "countShort": 4018, "bias": 0.55},
                     {"segmentId": 2, "totalValue": 10.0, "totalLongValue": 10.0, "totalShortValue": 0.0,
                      "count": 1, "bias": 1.0}],
    })


def test_the_cursor_cell_in_words_has_the_long_and_short_counts():
    row = _btc_row()
    fish = Segment(id=1, name="Fish", emoji="🐟", category="size")
    assert cell_detail(row, None)[0] == "BTC: 23,755 positions (12,046 long / 11,709 short) · $1.24B"
    assert cell_detail(row, fish)[0] == "BTC × 🐟 Fish: 9,120 positions (5,102 long / 4,018 short) · $26.5M long / $21.7M short"
    dolphin = Segment(id=2, name="Dolphin", category="size")  # no emoji; the server sent no long/short counts
    assert cell_detail(row, dolphin)[0] == "BTC × Dolphin: 1 position · $10 long / $0 short"
    assert cell_detail(row, Segment(id=3, name="Apex", category="size")) == ("BTC × Apex: no position",)


def test_the_cursor_cell_in_words_drops_whole_parts_for_its_shorter_forms():
    """A narrow title cut the fullest form mid-figure ("· $65.…"): the shorter forms end where a part does."""
    row = _btc_row()
    assert cell_detail(row, Segment(id=1, name="Fish", emoji="🐟", category="size"))[1:] == (
        "BTC × 🐟 Fish: 9,120 positions (5,102 long / 4,018 short)",
        "BTC × 🐟 Fish: 9,120 positions",
        "BTC × 🐟 Fish",
    )
    assert cell_detail(row, None)[1:] == ("BTC: 23,755 positions (12,046 long / 11,709 short)", "BTC: 23,755 positions", "BTC")
    # No long/short counts: no form without them to offer.
    assert cell_detail(row, Segment(id=2, name="Dolphin", category="size"))[1:] == ("BTC × Dolphin: 1 position", "BTC × Dolphin")


def test_cells_that_show_the_same_percent_carry_the_same_glyph_and_mark():
    """`·48%` stood beside `░▼48%` (0.4849 and 0.4751): the level came from the unrounded share."""
    seen: dict[str, str] = {}
    for i in range(100_001):
        text = share_cell(i / 100_000, RED_GREEN).text
        percent = text[2:]
        assert seen.setdefault(percent, text) == text, (seen[percent], text)
    assert seen["48%"] == " ·48%" or seen["48%"].endswith("·48%")
    assert seen["47%"][1] == "▼" and seen["53%"][1] == "▲"


def test_a_change_cell_reads_without_colour():
    palette = PALETTES[0]
    assert change_cell(3.14, palette).text == "▒▲+3.1"
    assert change_cell(-12.0, palette).text == "█▼-12.0" and change_cell(-12.0, palette).short == "█▼-12"
    assert change_cell(-0.4, palette).text == "·"  # under half a point: no change
    assert change_cell(None, palette).text == "—"  # no cell at the reference update
    assert change_cell(3.14, palette).background != change_cell(-3.14, palette).background
