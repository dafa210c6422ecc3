"""What changed between two API updates: the figures the change views and "since you last
looked" show. Pure: the caller gives both updates' answers (live or from the recording,
api/recording.py) and draws the result.

A cohort or a coin held at only one of the two updates has no change (it appeared or left):
it is left out, never counted as a move from or to zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypertui.api.models import (
    Heatmap,
    HeatmapCell,
    LiquidationRiskPage,
    SegmentSummary,
)
from hypertui.monitor.rows import BIAS_DEAD_ZONE

# The references a change is taken against, as the `d` key cycles them; 24 h unless chosen.
REFERENCES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
DEFAULT_REFERENCE = "24h"
RISK_BANDS = (2.0, 10.0)  # percent of a cohort's value on a coin near liquidation
Cell = tuple[str, int]  # (coin, cohort id)


def reference_update(updates: Iterable[datetime], now: datetime, ago: timedelta) -> datetime | None:
    """The update to compare with: the newest recorded at or before `now - ago`; None when the
    recording does not go back that far."""
    return max((at for at in updates if at <= now - ago), default=None)


def _bias(summary: SegmentSummary) -> float:
    return summary.open_perps_summary.perp_bias  # the bias the cohort list shows


def bias_changes(current: Mapping[int, SegmentSummary], reference: Mapping[int, SegmentSummary]) -> dict[int, float]:
    """Each cohort's perp bias now minus then, by cohort id."""
    return {sid: _bias(now) - _bias(reference[sid]) for sid, now in current.items() if sid in reference}


@dataclass(frozen=True)
class CellChange:
    share: float  # long share now minus then (-1 to 1)
    value: float  # total value now minus then (USD)
    weight: float  # the cell's value now: a move on a big cell matters more

    @property
    def weighted_move(self) -> float:
        return abs(self.share) * self.weight


def _cells(heatmap: Heatmap) -> dict[Cell, HeatmapCell]:
    return {(row.coin, sid): cell for row in heatmap.heatmap for sid, cell in row.by_segment.items()}


def cell_changes(current: Heatmap, reference: Heatmap) -> dict[Cell, CellChange]:
    """Each heatmap cell's change, by (coin, cohort id)."""
    then = _cells(reference)
    return {
        key: CellChange(cell.bias - then[key].bias, cell.total_value - then[key].total_value, cell.total_value)
        for key, cell in _cells(current).items()
        if key in then
    }


def largest_moves(changes: Mapping[Cell, CellChange], count: int = 10) -> list[tuple[Cell, CellChange]]:
    """The cells whose long share moved most, weighted by their value, largest first."""
    moved = [(key, change) for key, change in changes.items() if change.share]
    return sorted(moved, key=lambda item: (-item[1].weighted_move, item[0]))[:count]


def _side(bias: float) -> int:
    """1 long, -1 short, 0 within the dead zone the cohort list reads as neutral."""
    return 0 if abs(bias) < BIAS_DEAD_ZONE else (1 if bias > 0 else -1)


def sign_flips(current: Mapping[int, SegmentSummary], reference: Mapping[int, SegmentSummary]) -> list[tuple[int, float, float]]:
    """(cohort id, bias then, bias now) of the cohorts that turned from long to short or back:
    a drift across zero within the neutral band (±0.05) is not a turn."""
    return [
        (sid, _bias(reference[sid]), _bias(now))
        for sid, now in sorted(current.items())
        if sid in reference and _side(_bias(now)) * _side(_bias(reference[sid])) < 0
    ]


@dataclass(frozen=True)
class BandMove:
    cohort: int
    coin: str
    band: float  # the band's threshold, percent
    entered: bool  # False: left it
    percent: float | None  # its risk now; None when no longer listed


def _in_band(page: LiquidationRiskPage, coin: str, band: float) -> bool | None:
    """Whether `coin` is at or above `band` in a first page (sorted by risk, highest first);
    None when it is not on the page and the page stops above the band (not known)."""
    for item in page.items:
        if item.coin == coin:
            return item.percent_risk >= band
    covers_band = len(page.items) >= page.total_count or (page.items and page.items[-1].percent_risk < band)
    return False if covers_band else None


def risk_band_moves(
    current: Mapping[int, LiquidationRiskPage], reference: Mapping[int, LiquidationRiskPage], bands: Sequence[float] = RISK_BANDS
) -> list[BandMove]:
    """Coins that entered or left each band, per cohort held at both updates."""
    moves = []
    for sid in sorted(current.keys() & reference.keys()):
        now, then = current[sid], reference[sid]
        risk_now = {item.coin: item.percent_risk for item in now.items}
        coins = dict.fromkeys([*risk_now, *(item.coin for item in then.items)])
        for band in bands:
            for coin in coins:
                was, is_ = _in_band(then, coin, band), _in_band(now, coin, band)
                if was is not None and is_ is not None and was != is_:
                    moves.append(BandMove(sid, coin, band, is_, risk_now.get(coin)))
    return moves


@dataclass(frozen=True)
class SinceLastLooked:
    """The biggest moves between the update a session last showed and the current one."""

    flips: list[tuple[int, float, float]]
    moves: list[tuple[Cell, CellChange]]
    bands: list[BandMove]

    @property
    def empty(self) -> bool:
        return not (self.flips or self.moves or self.bands)


def since_last_looked(
    summaries: tuple[Mapping[int, SegmentSummary], Mapping[int, SegmentSummary]],
    heatmaps: tuple[Heatmap, Heatmap] | None,
    risk: tuple[Mapping[int, LiquidationRiskPage], Mapping[int, LiquidationRiskPage]],
    count: int = 10,
) -> SinceLastLooked:
    """Each pair is (now, then); a heatmap missing at either update: None."""
    moves = largest_moves(cell_changes(*heatmaps), count) if heatmaps is not None else []
    return SinceLastLooked(sign_flips(*summaries), moves, risk_band_moves(*risk))
