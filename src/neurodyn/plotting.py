"""Figures without global state: matplotlib's object-oriented API, imported when used.

Experiments draw on :class:`matplotlib.figure.Figure` objects made here, never through
``pyplot``: no backend is selected or switched and no figure is kept in a global
registry, so importing or running neurodyn leaves the user's matplotlib as it was (their
interactive backend included), and no figure needs closing.
"""

from __future__ import annotations

from typing import Any


def figure(rows: int = 1, columns: int = 1, *, size: tuple[float, float], **options: Any):
    """A new figure of ``size`` inches and its axes ``fig.subplots(rows, columns, ...)``;
    ``options`` go to ``subplots`` (``squeeze``, ``gridspec_kw``, ...)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    if rows == 0:  # the caller lays the axes out itself (fig.add_gridspec)
        return fig, None
    return fig, fig.subplots(rows, columns, **options)


def colors() -> list[str]:
    """The colours of matplotlib's default property cycle."""
    import matplotlib

    return matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]


def colormap(name: str):
    """The registered colormap ``name`` (``"viridis"``, ...)."""
    import matplotlib

    return matplotlib.colormaps[name]
