"""In-process / socket simulator of the HyperTracker cohort API (no Textual here)."""

from .market import Market
from .server import create_app, main_serve

__all__ = ["Market", "create_app", "main_serve"]
