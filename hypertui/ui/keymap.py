"""The config file's [keys] table (binding id → keys), applied with Textual's keymap, and checked.

Textual applies a keymap to each binding with that id wherever it is (app, screens, widgets).
It does not say when a remap goes wrong: an id no binding has, or a key that another binding
already takes where the remapped one lives (the same widget or screen, or one nearer the focus,
which gets the key first). `problems` finds those from the classes (at start, and for
`hypertui config check`); `screen_problems` from a mounted screen's real widget tree.
The ids a config used before each id named its owner are renamed as it is loaded (`normalize`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.widget import Widget

from hypertui.ui.textual_internals import merged_bindings, normalized_keys, own_bindings

Chain = list[tuple[str, BindingsMap]]  # (owner's name, its bindings), nearest the focus first

# Every id is `owner.action` now; before, the app's and the dashboard's were bare and the cohort
# list's said segments. A config that still names them keeps working: its ids are renamed as it
# is loaded (`config check` says so).
RENAMED_IDS = {
    "quit": "app.quit", "help": "app.help", "refresh": "app.refresh", "pause": "app.pause", "alerts": "app.alerts",
    "slower": "app.slower", "faster": "app.faster", "quit_ctrl_c": "app.quit_ctrl_c",
    "next_panel": "dashboard.next_panel", "previous_panel": "dashboard.previous_panel", "coin_view": "dashboard.coin_view",
    "legend": "dashboard.legend", "position_age": "dashboard.position_age", "heatmap_axis": "dashboard.heatmap_axis",
    "heatmap_mode": "dashboard.heatmap_mode", "opened_within": "dashboard.opened_within", "palette": "dashboard.palette",
    "filter": "dashboard.filter", "bias_overview": "dashboard.bias_overview", "alert_rule": "dashboard.alert_rule",
    "sort_risk": "dashboard.sort_risk", "sort_risk_reverse": "dashboard.sort_risk_reverse",
    "segments.down": "cohorts.down", "segments.up": "cohorts.up",
}  # fmt: skip


def normalize(keys: Mapping[str, str]) -> dict[str, str]:
    """Old ids renamed (the new id wins if both are given); "?" → "question_mark", spaces dropped:
    the form Textual compares keys in."""
    old_first = sorted(keys.items(), key=lambda item: item[0] not in RENAMED_IDS)
    return {RENAMED_IDS.get(binding_id, binding_id): normalized_keys(value) for binding_id, value in old_first}


def deprecations(keys: Mapping[str, str]) -> list[str]:
    """One line per old id the [keys] table uses, for `hypertui config check`."""
    return [f'[keys] "{old}" is now "{RENAMED_IDS[old]}"; the old id still works' for old in keys if old in RENAMED_IDS]


def _all_node_classes() -> Iterator[type[DOMNode]]:
    """Every widget, screen and app class, hypertui's drill-downs included (imported late)."""
    from hypertui.ui.screens import import_drill_downs

    import_drill_downs()
    return _node_classes()


def _node_classes(root: type[DOMNode] = DOMNode) -> Iterator[type[DOMNode]]:
    cls: type[DOMNode]
    for cls in root.__subclasses__():
        yield cls
        yield from _node_classes(cls)


def _class_bindings(cls: type[DOMNode]) -> BindingsMap:
    return merged_bindings(cls) or BindingsMap()


def _ours(cls: type) -> bool:
    return cls.__module__.startswith("hypertui.")


def known_ids() -> set[str]:
    """Every binding id of every widget, screen and app class."""
    return {b.id for cls in _all_node_classes() for _, b in _class_bindings(cls) if b.id}


def _with_keymap(bindings: BindingsMap, keymap: Mapping[str, str], owner: str) -> tuple[BindingsMap, list[str]]:
    """The bindings as they are after the keymap, and the ones a remap took the key of.

    Textual's own clash report misses a binding without a remap losing its key, so compare.
    """
    effective = bindings.copy()
    effective.apply_keymap(keymap)
    problems = []
    for key, on_key in bindings.key_to_bindings.items():
        for lost in on_key:
            if lost.id in keymap:
                continue  # moved away on purpose
            winners = [b for b in effective.key_to_bindings.get(key, []) if b.id in keymap and b.action != lost.action]
            if winners:
                problems.append(_clash(key, winners[0], lost, owner, owner))
    return effective, problems


def _name(binding: Binding) -> str:
    return binding.id or binding.action


def _clash(key: str, first: Binding, second: Binding, first_owner: str, second_owner: str) -> str:
    where = f"in {first_owner}" if first_owner == second_owner else f"({first_owner} comes before {second_owner})"
    return f"keys: {key!r} is bound to both {_name(first)} and {_name(second)} {where}; {_name(first)} wins"


def chain_problems(chain: Chain, keymap: Mapping[str, str]) -> list[str]:
    """Keys taken twice along one binding chain, where a remapped binding is one of the two."""
    problems: list[str] = []
    taken: dict[str, tuple[str, Binding]] = {}
    for owner, bindings in chain:
        effective, clashes = _with_keymap(bindings, keymap, owner)
        problems += clashes
        for key, on_key in effective.key_to_bindings.items():
            for binding in on_key:
                first_owner, first = taken.setdefault(key, (owner, binding))
                if first.action == binding.action or not ({first.id, binding.id} & keymap.keys()):
                    continue
                problems.append(_clash(key, first, binding, first_owner, owner))
    return problems


def _unique(problems: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(problems))


def problems(keymap: Mapping[str, str], app_class: type[DOMNode]) -> list[str]:
    """Unknown ids, and clashes within each of hypertui's classes and between a screen and the app."""
    keymap = normalize(keymap)
    known = known_ids()
    out = []
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            close = difflib.get_close_matches(binding_id, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            out.append(f"keys: no binding has the id {binding_id!r}{hint}")
        if not keys.strip(","):
            out.append(f"keys: {binding_id!r} is given no key")
    classes = [c for c in _all_node_classes() if _ours(c)]
    for cls in classes:
        chain = [(cls.__name__, _class_bindings(cls))]
        if issubclass(cls, Screen) and not issubclass(cls, ModalScreen):  # a modal screen hides the app's keys
            chain.append((app_class.__name__, _class_bindings(app_class)))
        out += chain_problems(chain, keymap)
    return _unique(out)


def screen_problems(screen: Screen, keymap: Mapping[str, str]) -> list[str]:
    """Clashes along every focus chain of a mounted screen (its widgets, the screen, the app)."""
    keymap = normalize(keymap)
    out: list[str] = []
    starts = [screen, *(n for n in screen.walk_children(Widget) if n.focusable)]
    for node in starts:
        chain: Chain = []
        for owner in node.ancestors_with_self:
            chain.append((type(owner).__name__, own_bindings(owner)))
            if owner is screen and isinstance(screen, ModalScreen):
                break
        out += chain_problems(chain, keymap)
    return _unique(out)


def display(keys: str) -> str:
    """"question_mark,ctrl+slash" → "? / ctrl+/": characters as themselves, other keys by name."""

    def one(key: str) -> str:
        *modifiers, name = key.split("+")
        shown = format_key(name)
        return "+".join([*modifiers, shown if len(shown) == 1 else name])

    return " / ".join(one(k) for k in keys.split(","))


def remapped(bindings: Iterable[Binding], keymap: Mapping[str, str]) -> list[Binding]:
    """The bindings with the keys the keymap gives them (for the help screen and the palette)."""
    keymap = normalize(keymap)
    return [b.with_key(keymap[b.id], key_display=display(keymap[b.id])) if b.id in keymap else b for b in bindings]


def reference(app_class: type[DOMNode]) -> str:
    """Commented `id = "keys"` lines for every hypertui binding, by class, for the config template."""
    ours = (c for c in _all_node_classes() if _ours(c) and c is not app_class)
    classes = sorted(ours, key=lambda c: (c.__module__, c.__name__))
    seen: set[str] = set()
    out = []
    for cls in [app_class, *classes]:
        rows = []
        for b in cls.__dict__.get("BINDINGS", ()):
            if isinstance(b, Binding) and b.id and b.id not in seen:
                seen.add(b.id)
                entry = f'"{b.id}" = "{b.key}"'
                rows.append(f"# {entry:<40} # {b.description or b.action}\n")
        if rows:
            out.append(f"#   {cls.__name__}\n" + "".join(rows))
    return "".join(out)
