"""The headline numbers of a benchmark, one marked line each, for ``run_all.py``'s table.

A benchmark prints its details as it likes and calls :func:`headline` for each number
worth a row of the performance table: what was measured, the value, and the target it is
held to (if any). ``run_all.py`` runs every benchmark and gathers these lines.
"""

from __future__ import annotations

import json

PREFIX = "headline: "


def headline(quantity: str, measured: str, target: str = "") -> None:
    """Print one row of the performance table: ``quantity``, ``measured`` and ``target``."""
    row = {"quantity": quantity, "measured": measured, "target": target}
    print(PREFIX + json.dumps(row), flush=True)
