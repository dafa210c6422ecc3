"""Alert rules from the config file (`[[alerts]]`), and which of them fire on the cached data.

A rule watches one value: a cohort's perp bias, a coin's long share for a cohort, a cohort's
liquidation risk (%), or the change (%) of a cohort's trader count. It fires ONCE when the value
goes past its level (`above` / `below`), then re-arms only when the value comes back past the
level by `hysteresis`, so a value hovering at the level does not flap. A rule whose value is
already past the level when first seen fires then (the user did not know yet); a `sign_change`
rule has nothing to compare with at first and only remembers the sign.

Rules read what the dashboard already fetched: the selected cohort's summary (positionAge=all),
the heatmap (positions opened within "all"), and the selected cohort's liquidation risk. A rule
on a cohort not selected needs that cohort's summary (bias, traders) or risk, which the refresh
cycle fetches for it once per data update (`summary_cohorts`, `risk_cohorts`,
hypertui.monitor.plan). A value that is not cached is reported with the
reason, and the rule's state is kept until it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, TypeAdapter, ValidationError, model_validator

from hypertui.api.models import Heatmap, RiskItem, Segment, SegmentSummary, iso
from hypertui.api.text import one_line
from hypertui.files import open_private
from hypertui.monitor import format as fmt

# How far back past the level a value must come before the rule fires again (in the rule's unit).
DEFAULT_HYSTERESIS = {"bias": 0.02, "long_share": 0.01, "liquidation_risk": 1.0, "traders": 0.5}


class _Rule(BaseModel):
    # Built when the first rule is read: most configs have none, and start-up need not wait.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    cohort: StrictStr | StrictInt = Field(description="cohort name (case-insensitive) or id 1-16")
    above: float | None = None
    below: float | None = None
    hysteresis: float | None = Field(default=None, ge=0)
    name: StrictStr | None = None  # a label for the toast and the log instead of the generated one

    @model_validator(mode="after")
    def _one_level(self) -> _Rule:
        if isinstance(self.cohort, int) and not 1 <= self.cohort <= 16:
            raise ValueError(f"cohort id must be 1-16, got {self.cohort}")
        if isinstance(self.cohort, str) and not self.cohort.strip():
            raise ValueError("cohort must not be empty")
        levels = [k for k in ("above", "below") if getattr(self, k) is not None]
        if getattr(self, "sign_change", False):
            levels.append("sign_change")
        if len(levels) != 1:
            extra = ", or sign_change = true" if "sign_change" in type(self).model_fields else ""
            got = f" (got {' and '.join(levels)})" if levels else ""
            raise ValueError(f"set exactly one of above = N, below = N{extra}{got}")
        low, high = self._range()
        level = self.level
        if level is not None and not low <= level <= high:
            raise ValueError(f"the level must be within {low:g}..{high:g}, got {level:g}")
        return self

    def _range(self) -> tuple[float, float]:
        return float("-inf"), float("inf")

    @property
    def level(self) -> float | None:
        return self.above if self.above is not None else self.below

    @property
    def margin(self) -> float:
        """The hysteresis, kept small enough that the value can come back past it (risk above 1 %
        with the default 1 point would otherwise re-arm only below 0 %)."""
        margin = self.hysteresis if self.hysteresis is not None else DEFAULT_HYSTERESIS[self.kind]  # type: ignore[attr-defined]  # each rule class declares its `kind`
        low, high = self._range()
        if self.above is not None and self.above - margin <= low:
            margin = (self.above - low) / 2
        if self.below is not None and self.below + margin >= high:
            margin = (high - self.below) / 2
        return margin


class BiasRule(_Rule):
    """A cohort's perp bias (signed, can exceed ±1) crossing a level or changing sign."""

    kind: Literal["bias"]
    sign_change: StrictBool = False


class LongShareRule(_Rule):
    """A coin's long share (0-1) for a cohort, from the heatmap."""

    kind: Literal["long_share"]
    coin: StrictStr

    def _range(self) -> tuple[float, float]:
        return 0.0, 1.0


class RiskRule(_Rule):
    """A cohort's liquidation risk in % (0-100): on one coin, or the highest over its coins."""

    kind: Literal["liquidation_risk"]
    coin: StrictStr | None = None

    def _range(self) -> tuple[float, float]:
        return 0.0, 100.0


class TradersRule(_Rule):
    """The change (%) of a cohort's trader count, vs 24 h ago (as the API sends it) or vs the
    first count seen since hypertui started (`versus = "start"`)."""

    kind: Literal["traders"]
    versus: Literal["24h", "start"] = "24h"


AlertRule = Annotated[BiasRule | LongShareRule | RiskRule | TradersRule, Field(discriminator="kind")]
KINDS = ("bias", "long_share", "liquidation_risk", "traders")
PROBLEM_MAX_LEN = 500  # characters of one rule's problems: all of them, unless the file holds nonsense


@cache
def _rule_adapter() -> TypeAdapter[AlertRule]:
    return TypeAdapter(AlertRule)


def parse_rules(raw: Any) -> tuple[list[tuple[int, AlertRule]], list[str]]:
    """The valid rules numbered as in the file (1 = the first [[alerts]]), and one message per
    invalid one naming its number and field. An invalid rule is skipped, not fatal."""
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], ["config: alerts must be a list of [[alerts]] tables"]
    rules: list[tuple[int, AlertRule]] = []
    problems: list[str] = []
    for number, item in enumerate(raw, start=1):
        where = f"config: [[alerts]] #{number}"
        if isinstance(item, dict) and isinstance(item.get("kind"), str):
            where += f" (kind {item['kind']})"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be a table")
            continue
        if "kind" not in item:
            problems.append(f"{where}: kind: missing (one of {', '.join(KINDS)})")
            continue
        try:
            rules.append((number, _rule_adapter().validate_python(item)))
        except ValidationError as exc:
            problems.append(f"{where}: {_errors(exc)}")
    # One line each (a kind or a field name may hold a line break): `config check` prints a line per problem.
    return rules, [one_line(p, PROBLEM_MAX_LEN) for p in problems]


def _errors(exc: ValidationError) -> str:
    return "; ".join(dict.fromkeys(_error(e) for e in exc.errors(include_url=False)))  # once each


def _error(error: Any) -> str:
    loc = ".".join(str(part) for part in error["loc"][1:])  # [0] is the union's tag (the kind)
    if loc.startswith("cohort."):  # one message for the str | int union, not one per member
        return "cohort: must be a cohort name or an id 1-16"
    if error["type"] == "union_tag_invalid":
        return f"kind: {error['input'].get('kind')!r} is not one of {', '.join(KINDS)}"
    if error["type"] == "extra_forbidden":
        return f"{loc}: unknown field"
    message = error["msg"].removeprefix("Value error, ")
    return f"{loc}: {message}" if loc else message


# --- reading a rule's value from the cache ---------------------------------------------------


@dataclass(frozen=True)
class AlertData:
    """The dashboard's cached data that rules read (nothing is fetched for them)."""

    cohorts: Sequence[Segment] = ()
    summaries: Mapping[int, SegmentSummary] = field(default_factory=dict)  # positionAge=all, by cohort id
    heatmap: Heatmap | None = None  # positions opened within "all"; None when another window is shown
    risk: Mapping[int, Sequence[RiskItem]] = field(default_factory=dict)  # liquidation risk rows, by cohort id


@dataclass(frozen=True)
class Reading:
    subject: str  # what is watched, e.g. "📈 Smart Money perp bias"
    value: float | None = None
    missing: str | None = None  # why there is no value yet
    count: int | None = None  # traders: the current count (the base of `versus = "start"`)


def find_cohort(segments: Sequence[Segment], cohort: str | int) -> Segment | None:
    for seg in segments:
        if seg.id == cohort or (isinstance(cohort, str) and seg.name.casefold() == cohort.strip().casefold()):
            return seg
    return None


def read(rule: AlertRule, data: AlertData, base: int | None = None) -> Reading:
    """The rule's current value from the cache, or why it has none (`base`: traders vs start)."""
    seg = find_cohort(data.cohorts, rule.cohort)
    label = f"{seg.emoji} {seg.name}".strip() if seg else str(rule.cohort)
    if isinstance(rule, LongShareRule):
        label = f"{rule.coin} × {label}"
    what = {"bias": "perp bias", "long_share": "long share", "liquidation_risk": "liquidation risk", "traders": "traders"}
    subject = f"{label} {what[rule.kind]}"
    if isinstance(rule, RiskRule) and rule.coin:
        subject = f"{label} {rule.coin} liquidation risk"
    if seg is None:
        if not data.cohorts:
            return Reading(subject, missing="the cohort legend is not loaded yet")
        return Reading(subject, missing=f"no cohort {rule.cohort!r} in the legend")
    if isinstance(rule, LongShareRule):
        return _long_share(rule, seg, data.heatmap, subject)
    if isinstance(rule, RiskRule):
        return _risk(rule, seg, data, subject)
    summary = data.summaries.get(seg.id)
    if summary is None:
        return Reading(subject, missing="the cohort's summary is not fetched yet")
    if isinstance(rule, BiasRule):
        return Reading(subject, summary.open_perps_summary.perp_bias)
    count = summary.summary.count_traders
    if count is None:
        return Reading(subject, missing="the summary has no trader count")
    if rule.versus == "24h":
        base = summary.traders_24h_ago
        if base is None:
            return Reading(subject, missing='the API sent no trader count of 24 h ago (try versus = "start")', count=count)
    base = count if base is None else base
    if not base:
        return Reading(subject, missing="no traders to compare with", count=count)
    return Reading(subject, 100.0 * (count - base) / base, count=count)


def _long_share(rule: LongShareRule, seg: Segment, heatmap: Heatmap | None, subject: str) -> Reading:
    if heatmap is None:
        return Reading(subject, missing="no heatmap of all positions yet (fetched while its panel shows opened all)")
    row = next((r for r in heatmap.heatmap if r.coin == rule.coin), None)
    if row is None:
        row = next((r for r in heatmap.heatmap if r.coin.casefold() == rule.coin.casefold()), None)
    if row is None:
        return Reading(subject, missing=f"{rule.coin} is not in the heatmap")
    cell = row.cell(seg.id)
    if cell is None or not cell.total_value:
        return Reading(subject, missing=f"{seg.name} holds no {row.coin}")
    return Reading(subject, cell.bias)


def _risk(rule: RiskRule, seg: Segment, data: AlertData, subject: str) -> Reading:
    items = data.risk.get(seg.id)
    if items is None:
        return Reading(subject, missing="the cohort's liquidation risk is not fetched yet (once per data update)")
    if rule.coin is None:
        if not items:
            return Reading(subject, missing="the cohort has no liquidation risk rows")
        return Reading(subject, max(i.percent_risk for i in items))
    item = next((i for i in items if i.coin == rule.coin), None)
    if item is None:
        return Reading(subject, missing=f"{rule.coin} is not among the {len(items)} risk rows loaded")
    return Reading(subject, item.percent_risk)


def risk_cohorts(rules: Sequence[tuple[int, AlertRule]], segments: Sequence[Segment]) -> frozenset[int]:
    """The cohorts whose liquidation risk some rule reads (ids; a cohort not in the legend: none)."""
    return _cohorts_read(rules, segments, RiskRule)


def summary_cohorts(rules: Sequence[tuple[int, AlertRule]], segments: Sequence[Segment]) -> frozenset[int]:
    """The cohorts whose summary (perp bias, trader count) some rule reads."""
    return _cohorts_read(rules, segments, BiasRule, TradersRule)


def _cohorts_read(rules: Sequence[tuple[int, AlertRule]], segments: Sequence[Segment], *kinds: type) -> frozenset[int]:
    found = (find_cohort(segments, rule.cohort) for _, rule in rules if isinstance(rule, kinds))
    return frozenset(seg.id for seg in found if seg is not None)


def format_value(rule: AlertRule, value: float | None, digits: int | None = None) -> str:
    """A value in the rule's unit. Decimals: as many as its level and hysteresis have, and more
    if needed so a value other than the level never reads the same as the level."""
    if value is None:
        return fmt.DASH
    scale = 100.0 if isinstance(rule, LongShareRule) else 1.0  # long share shows as a percentage
    if digits is None:
        digits = value_digits(rule, value)
    if isinstance(rule, BiasRule):
        return fmt.signed(value, digits)
    if isinstance(rule, TradersRule):
        return f"{fmt.signed(value, digits)}%"
    return f"{value * scale:.{digits}f}%"


def value_digits(rule: AlertRule, value: float) -> int:
    scale = 100.0 if isinstance(rule, LongShareRule) else 1.0
    digits = max(
        [{"bias": 2, "long_share": 1, "liquidation_risk": 2, "traders": 1}[rule.kind]]
        + [_decimals(x * scale) for x in (rule.level, rule.margin) if x is not None]
    )
    level = rule.level
    while level is not None and value != level and digits < 6 and round(value * scale, digits) == round(level * scale, digits):
        digits += 1
    return digits


def _decimals(number: float) -> int:
    return len(f"{number:.6f}".rstrip("0").split(".")[1])


def describe(rule: AlertRule) -> str:
    """The rule as one line: 'Smart Money bias above +0.60, re-arms below +0.58'."""
    cohort = f"cohort {rule.cohort}" if isinstance(rule.cohort, int) else rule.cohort
    parts = [cohort, rule.kind.replace("_", " ")]
    if isinstance(rule, LongShareRule | RiskRule) and rule.coin:
        parts.insert(0, rule.coin)
    if isinstance(rule, TradersRule):
        parts.append("vs 24 h ago" if rule.versus == "24h" else "vs start")
    if rule.level is None:
        return " ".join(parts) + f" changes sign (ignoring ±{format_value(rule, rule.margin).lstrip('+')})"
    up = rule.above is not None
    back = rule.level - rule.margin if up else rule.level + rule.margin
    parts.append(f"{'above' if up else 'below'} {format_value(rule, rule.level)},")
    parts.append(f"re-arms {'below' if up else 'above'} {format_value(rule, back)}")
    return " ".join(parts)


# --- crossing state ----------------------------------------------------------------------------


@dataclass
class RuleState:
    armed: bool | None = None  # None: never seen; False: fired and waiting to come back
    sign: int = 0  # sign_change rules: the last sign seen outside the dead zone (±hysteresis)
    reading: Reading | None = None
    base: int | None = None  # traders `versus = "start"`: the first count seen
    fired_at: datetime | None = None

    def describe(self, rule: AlertRule) -> str:
        if isinstance(rule, BiasRule) and rule.sign_change:
            return {1: "positive", -1: "negative"}.get(self.sign, "waiting for data")
        return {None: "waiting for data", True: "armed"}.get(self.armed, "fired, waiting to re-arm")


@dataclass(frozen=True)
class Alert:
    at: datetime
    number: int  # the rule's [[alerts]] number in the config file
    rule: AlertRule
    text: str

    def log_line(self) -> str:
        return f"{iso(self.at)}\t#{self.number}\t{self.rule.kind}\t{self.text}\n"


def past_level(rule: AlertRule, value: float) -> bool:
    """Above an `above` rule's level, below a `below` rule's."""
    level = rule.level
    assert level is not None
    return value > level if rule.above is not None else value < level


def step(rule: AlertRule, state: RuleState, value: float) -> str | None:
    """Advance the state with a new value; the alert's wording when it fires, else None."""
    margin = rule.margin
    if isinstance(rule, BiasRule) and rule.sign_change:
        sign = 1 if value > margin else -1 if value < -margin else 0
        before, state.sign = state.sign, sign or state.sign
        if sign and before and sign != before:
            return f"turned {'positive' if sign > 0 else 'negative'}"
        return None
    level = rule.level
    assert level is not None
    up = rule.above is not None
    beyond = past_level(rule, value)
    back = value < level - margin if up else value > level + margin
    first = state.armed is None
    if beyond and (first or state.armed):
        state.armed = False
        verb = ("is above" if up else "is below") if first else ("rose above" if up else "fell below")
        return f"{verb} {format_value(rule, level, value_digits(rule, value))}" + (" (when first seen)" if first else "")
    if first or back:
        state.armed = True
    return None


class AlertEvaluator:
    """Holds each rule's state across refreshes; `evaluate` returns the alerts that fire now."""

    def __init__(self, rules: Sequence[tuple[int, AlertRule]]) -> None:
        self.rules = list(rules)
        self.states = {number: RuleState() for number, _ in self.rules}
        self._last: AlertData | None = None  # what the last evaluation read: a rule added reads it too

    def add(self, number: int, rule: AlertRule) -> int:
        """A rule saved from the app, evaluated from the next refresh on; the number it is shown with.

        Its number in the file, unless that is taken: the file was edited since it was read (a
        rule taken out), and the numbers read then must still name one rule each.
        """
        if number in self.states:
            number = max(self.states) + 1
        self.rules.append((number, rule))
        # Made looking at the value now: if that is not past the level, the rule starts armed and
        # the next value past it is a crossing, not one "already past when first seen".
        now = read(rule, self._last, None).value if self._last is not None and rule.level is not None else None
        self.states[number] = RuleState(armed=True if now is not None and not past_level(rule, now) else None)
        return number

    def evaluate(self, data: AlertData, now: datetime) -> list[Alert]:
        self._last = data
        fired = []
        for number, rule in self.rules:
            state = self.states[number]
            reading = read(rule, data, state.base)
            state.reading = reading
            if isinstance(rule, TradersRule) and rule.versus == "start" and state.base is None:
                state.base = reading.count
            if reading.value is None:
                continue
            wording = step(rule, state, reading.value)
            if wording is None:
                continue
            state.fired_at = now
            label = rule.name or reading.subject
            fired.append(Alert(now, number, rule, f"{label} {format_value(rule, reading.value)} {wording}"))
        return fired


def alerts_log_path() -> Path:
    """Where fired alerts are appended, one line each."""
    import platformdirs  # deferred: only needed when an alert fires

    return platformdirs.user_state_path("hypertui") / "alerts.log"


def append_log(path: Path, alerts: Sequence[Alert]) -> None:
    """Append one line per alert (blocking: call it off the event loop)."""
    with open_private(path, "a", encoding="utf-8") as fh:
        fh.writelines(a.log_line() for a in alerts)
