"""Small axis helpers shared by the double-descent figures."""

from __future__ import annotations


def log_gamma_axis(ax, ticks=(0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)) -> None:
    """Log x axis with plain-number major ticks and no minor labels (the default ones overlap)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    lo, hi = ax.get_xlim()
    ax.xaxis.set_major_locator(FixedLocator([t for t in ticks if lo <= t <= hi] or ticks))
    fmt = ScalarFormatter()
    fmt.set_scientific(False)
    ax.xaxis.set_major_formatter(fmt)
    ax.xaxis.set_minor_formatter(NullFormatter())


def log_count_axis(ax, axis: str = "x") -> None:
    """Log axis for counts (features, widths) labelled with plain numbers: 1-2-5 steps up to two decades, else decades."""
    import math

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    lo, hi = (ax.get_xlim() if axis == "x" else ax.get_ylim())
    decades = math.log10(max(hi, 1e-300) / max(lo, 1e-300))
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2.2 else (1.0,)))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_formatter(NullFormatter())
