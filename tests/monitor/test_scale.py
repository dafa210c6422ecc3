"""Signed chart maths: one scale about zero, bars that carry their sign, columns in time, ticks."""

from datetime import UTC, datetime, timedelta

from hypertui.monitor.scale import ZERO_LINE, Cell, scale_label, signed_bars, symmetric_bound, time_columns, time_ticks

T0 = datetime(2026, 11, 17, 12, 10, tzinfo=UTC)


def _rows(lines: list[list[Cell]]) -> list[str]:
    return ["".join(c.glyph for c in line) for line in lines]


def test_the_bound_is_the_largest_magnitude_of_any_series():
    assert symmetric_bound([0.02, -0.02, -0.27, 0.01]) == 0.27
    assert symmetric_bound([1.4, -0.3]) == 1.4  # perp bias exceeds ±1 with leverage: not clipped
    assert symmetric_bound([float("inf"), float("nan"), -0.5]) == 0.5
    assert symmetric_bound([-1.7e308, 1e308]) == 1.7e308
    assert symmetric_bound([]) == 1.0 and symmetric_bound([0.0, -0.0]) == 1.0  # a flat zero line
    assert [scale_label(v) for v in (0.27, -0.27, 1.0, 1.7e308)] == ["+0.27", "-0.27", "+1", "+1.7e+308"]


def test_a_small_move_is_small_on_a_shared_scale():
    # The issue: per-row min…max drew ±0.02 as tall as -0.27…+0.02. On ±0.27 both are to scale.
    bound = symmetric_bound([0.02, -0.02, -0.27, 0.02])
    assert _rows(signed_bars([0.02, -0.02], bound, 2)) == ["▁ ", ZERO_LINE + "▆"]  # ▆ inverse: the top 2/8
    assert _rows(signed_bars([-0.27, 0.02], bound, 2)) == [" ▁", "█" + ZERO_LINE]


def test_bars_rise_and_hang_from_a_zero_line_in_eighths():
    lines = signed_bars([1.0, 0.5, 0.25, 0.0, None, -0.25, -0.5, -0.75, -1.0], 1.0, 4)
    assert _rows(lines) == [
        "█        ",
        "██▄      ",
        "▔▔▔▔▔▀███",  # the zero line where no bar hangs from it
        "       ▀█",
    ]
    # The sign is where the bar is, not its colour: up cells above the line, down cells below.
    assert {c.role for line in lines[:2] for c in line} <= {"up", ""}
    assert {c.role for line in lines[2:] for c in line} <= {"down", "zero", ""}
    # No glyph fills 3/8 from the top: the empty 5/8 below it, drawn inverse.
    (third,) = signed_bars([-0.375], 1.0, 2)[1]
    assert (third.glyph, third.role, third.inverse) == ("▅", "down", True)


def test_a_nonzero_value_shows_its_sign_and_an_odd_height_keeps_the_line_between_rows():
    up, down = signed_bars([1e-9, -1e-9], 1.0, 2)
    assert [(c.glyph, c.role) for c in up] == [("▁", "up"), (" ", "")]
    # Below zero, two eighths: one would look like the zero line, the sign told by colour alone.
    assert [(c.glyph, c.role, c.inverse) for c in down] == [(ZERO_LINE, "zero", False), ("▆", "down", True)]
    assert len(signed_bars([0.5], 1.0, 5)) == 4 and len(signed_bars([0.5], 1.0, 1)) == 2


def test_columns_follow_time_keep_spikes_and_leave_no_data_blank():
    at = [T0 + timedelta(hours=h) for h in range(5)]
    points = [(at[0], 0.1), (at[1], -0.4), (at[1] + timedelta(minutes=1), 0.2), (at[3], 0.3)]
    # Four hours over eight columns: two per hour; the spike in a column wins; the gap at 2 h is
    # filled by the nearest snapshot; after the last one (3 h) there is no data.
    assert time_columns(points, at[0], at[4], 8) == [0.1, 0.1, -0.4, -0.4, -0.4, 0.3, 0.3, None]
    assert time_columns(points, at[2], at[4], 4) == [-0.4, -0.4, 0.3, None]  # those before the span: in the first
    assert time_columns([(at[0], float("nan"))], at[0], at[1], 3) == [None, None, None]
    assert time_columns([(at[0], 0.5)], at[0], at[0], 3) == [0.5, None, None]


def test_ticks_name_the_start_middle_and_end():
    day = time_ticks(T0, T0 + timedelta(hours=72), 60)
    assert day.startswith("11-17 12:10 ") and day.endswith(" 11-20 12:10 UTC") and len(day) == 60
    assert day.index("11-19 00:10") == 30 - len("11-19 00:10") // 2  # centred on the middle column
    week = time_ticks(T0, T0 + timedelta(days=7), 40)
    assert week.split() == ["11-17", "11-21", "11-24", "UTC"]  # day marks beyond three days
    assert time_ticks(T0, T0 + timedelta(hours=72), 30).split() == ["11-17", "12:10", "11-20", "12:10", "UTC"]
    assert time_ticks(T0, T0 + timedelta(hours=72), 20) == "11-17 12:10         "
