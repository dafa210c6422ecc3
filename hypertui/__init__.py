"""hypertui: a terminal live monitor for HyperTracker cohort analytics."""

__version__ = "0.1.0"
