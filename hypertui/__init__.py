"""hypertui: a terminal live monitor for HyperTracker cohort analytics."""

__version__ = "0.1.0"

import logging as _logging

# A library default: nothing is printed unless the app sets up its log file (see config.setup_logging).
_logging.getLogger("hypertui").addHandler(_logging.NullHandler())
