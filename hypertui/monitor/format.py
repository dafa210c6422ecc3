"""Number formatting for the dashboard: compact money, signed bias, shares, counts, ages."""

from __future__ import annotations

import math
from typing import TypeGuard

DASH = "—"  # shown where the server sent nothing


def _known(value: float | None) -> TypeGuard[float]:
    """A number to show: not None, nor NaN or infinite (which a server may send as much as null)."""
    return value is not None and (not isinstance(value, float) or math.isfinite(value))


def _rounded(value: float, digits: int) -> float:
    """`value` as it prints to `digits` decimals, with a negative that rounds to zero made 0: a
    "-0.00" reads as a short lean or a loss that is not there."""
    return round(value, digits) or 0.0  # -0.0 is false


def money(value: float | None) -> str:
    """$1.24B, $48.2M, $12.3K, $950; three significant digits above a thousand."""
    if not _known(value):
        return DASH
    sign = "-" if _rounded(value, 0) < 0 else ""
    v = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if v >= limit * 0.9995:
            scaled = v / limit
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return f"{sign}${scaled:.{digits}f}{suffix}"
    return f"{sign}${v:.0f}"


def price(value: float | None) -> str:
    """Prices over a wide range: 97,250.5 · 3.4521 · 0.00001234."""
    if not _known(value):
        return DASH
    v = abs(value)
    if v >= 10_000:
        return f"{value:,.1f}"
    if v >= 100:
        return f"{value:,.2f}"
    if v >= 1:
        return f"{value:.4f}"
    return f"{value:.4g}" if v else "0"


def amount(value: float | None) -> str:
    """Coin units: 1,234.5 · 0.0123."""
    if not _known(value):
        return DASH
    v = abs(value)
    if v >= 1_000_000:
        return f"{value / 1e6:,.2f}M"
    if v >= 1000:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def signed_money(value: float | None) -> str:
    """+$1.2K, -$3.40, +$0.01; cents below $100 so small PnL and funding are not all "$0"."""
    if not _known(value):
        return DASH
    v = abs(value)
    sign = "" if round(v, 2) == 0 else "+" if value > 0 else "-"
    text = f"${v:.2f}" if v < 100 else money(v)
    return sign + text


def count(value: int | float | None) -> str:
    """Thousands separators: 12,345."""
    return DASH if not _known(value) else f"{_rounded(value, 0):,.0f}"


def signed(value: float | None, digits: int = 2) -> str:
    """Perp bias and other signed ratios: +0.81, -0.12, and 0.00 (no sign) for what rounds to zero."""
    if not _known(value):
        return DASH
    shown = _rounded(value, digits)
    return f"{shown:+.{digits}f}" if shown else f"{shown:.{digits}f}"


def ratio(value: float | None, digits: int = 2) -> str:
    return DASH if not _known(value) else f"{_rounded(value, digits):.{digits}f}"


def percent(value: float | None, digits: int = 1) -> str:
    """A value already in percent (0-100): 12.3%."""
    return DASH if not _known(value) else f"{_rounded(value, digits):.{digits}f}%"


def long_share(share: float | None) -> str:
    """A long share in [0, 1] as a percentage of long value: always the long side (39.0%), so a
    column headed "Long share" never switches meaning; the ▲▼ beside it tells the lean."""
    if not _known(share):
        return DASH
    return f"{share * 100:.1f}%"


def signed_count(value: int | None) -> str:
    """A change in a count: +1,204 / -37 / 0."""
    if value is None:
        return DASH
    return f"{value:+,d}" if value else "0"


def direction(value: float | None, dead_zone: float = 0.0) -> str:
    """▲ above the dead zone, ▼ below, · inside it (readable without colour)."""
    if not _known(value):
        return " "
    if value > dead_zone:
        return "▲"
    if value < -dead_zone:
        return "▼"
    return "·"


def age(seconds: float | None) -> str:
    """Compact age in whole minutes: <1m, 3m, 2h14m, 3d04h.

    No seconds: repainting a status line every second only to say a second went by costs a
    Textual app more CPU (~0.4 %) than htop spends in all (measured with benchmarks/run.py).
    The status line gives the clock times next to it.
    """
    if seconds is None:
        return DASH
    s = max(0, int(seconds))
    if s < 60:
        return "<1m"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def interval(seconds: float | None) -> str:
    """A refresh interval: 15s, 5m, or auto (follow the data's cadence)."""
    if seconds is None:
        return "auto"
    if seconds < 60 or seconds % 60:
        return f"{seconds:g}s"
    return f"{seconds / 60:g}m"


def sort_mark(descending: bool) -> str:
    """A sorted column's mark, in its header only: not ▲▼, which say long/short, nor ↑↓, which say changed."""
    return "▾" if descending else "▴"
