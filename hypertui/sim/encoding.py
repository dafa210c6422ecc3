"""How the simulator's values travel in JSON: ISO times in milliseconds, opaque page cursors, and
USD values rounded as the real service sends them."""

from __future__ import annotations

import base64
from datetime import datetime

import numpy as np


def iso_ms(ms: int) -> str:
    return np.datetime_as_string(np.datetime64(int(ms), "ms"), unit="ms") + "Z"


def iso_ms_array(ms: np.ndarray) -> list[str]:
    s = np.datetime_as_string(np.asarray(ms, dtype=np.int64).astype("datetime64[ms]"), unit="ms")
    return [x + "Z" for x in s.tolist()]


def to_ms(dt: datetime) -> int:
    return round(dt.timestamp() * 1000)


def encode_cursor(*parts) -> str:
    raw = ":".join(str(p) for p in parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(s: str, n: int) -> list[str]:
    """Raise ValueError on anything that is not one of our cursors."""
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
    except Exception as exc:  # binascii.Error, UnicodeDecodeError: whatever it was, not ours
        raise ValueError("bad cursor") from exc
    parts = raw.split(":")
    if len(parts) != n:
        raise ValueError("bad cursor")
    return parts


def _r2(x) -> float:
    return round(float(x), 2)


def _r4(x) -> float:
    return round(float(x), 4)

