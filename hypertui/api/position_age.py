"""The position ages the API filters by (`positionAge`, `positionRecencyTimeframe`, `openedWithin`,
the exports' `-24h` / `-7d` / `-30d`): positions opened within the last 24 h, 7 d or 30 d, or all.

Defined once for the client, the screens that cycle through them and the command line's choices;
a module of its own so that `hypertui --help` need not import the models (pydantic) for it.
"""

from __future__ import annotations

from typing import Literal, get_args

PositionAge = Literal["all", "24h", "7d", "30d"]
POSITION_AGES: tuple[PositionAge, ...] = get_args(PositionAge)  # in the order the keys cycle through them
