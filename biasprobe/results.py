"""Writers for results/<name>/: tables as CSV + Markdown + LaTeX booktabs, byte-stable figures, one shared style.

``Output.table(name, df, caption, n=..., ci=...)`` writes ``name.csv`` (tidy
data, every column), ``name.md`` and ``name.tex`` (the same rows, a value and
its 95% interval shown together as ``v [lo, hi]``). ``n`` names the
sample-size column; ``ci`` names the columns with intervals: a list of value
columns ``c`` with ``c_lo``/``c_hi`` columns beside them, or a dict
``{value: (lo, hi)}``. ``Output.figure(name, fig, caption)`` writes
``name.png`` and ``name.pdf`` with no dates in their metadata, so two runs give
identical bytes. Figures should come from :func:`new_figure`; the runner renders inside
:func:`plot_style`, which sets the shared style for that block only.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

FIG_DPI = 150
# The same rc for every figure; a fixed hash salt keeps any SVG ids stable as well.
_RC = {
    "figure.dpi": FIG_DPI,
    "savefig.dpi": FIG_DPI,
    "savefig.bbox": "standard",
    "svg.hashsalt": "biasprobe",
    "pdf.fonttype": 42,
    "axes.titlesize": "medium",
    "legend.fontsize": "small",
    "legend.title_fontsize": "small",
}
_PDF_META = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": "biasprobe"}
_PNG_META = {"Software": "biasprobe"}


@contextlib.contextmanager
def plot_style():
    """The one seaborn style every biasprobe figure uses, applied for a block and undone after it.

    The runner renders every experiment inside it; in a notebook, wrap your own plotting in
    ``with plot_style():`` to get the same look without changing the notebook's global style.
    """
    import matplotlib as mpl
    import seaborn as sns

    with mpl.rc_context():
        sns.set_theme(context="paper", style="whitegrid", palette="colorblind", rc=_RC)
        yield


def new_figure(nrows: int = 1, ncols: int = 1, width: float | None = None, height: float | None = None,
               **subplot_kw):
    """A styled (fig, axes) pair that is not registered with pyplot (no global figure state, no leaks)."""
    from matplotlib.figure import Figure

    width = width if width is not None else 3.2 * ncols + 0.6
    height = height if height is not None else 2.8 * nrows + 0.4
    with plot_style():
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return fig, axes


# ---- confidence intervals -------------------------------------------------------------------

def mean_ci(x, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lo, hi): Student-t interval for the mean of a sample (NaN-free input expected)."""
    from scipy import stats

    x = np.asarray(x, dtype=float).ravel()
    m = float(x.mean()) if x.size else math.nan
    if x.size < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - half, m + half


def wilson_ci(k, n, level: float = 0.95):
    """Wilson score interval (lo, hi) for k successes in n trials; vectorised, exact 0 at k=0 and 1 at k=n."""
    from scipy import stats

    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = float(stats.norm.ppf(0.5 + level / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        lo = np.where(k <= 0, 0.0, centre - half)
        hi = np.where(k >= n, 1.0, centre + half)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


# ---- formatting -----------------------------------------------------------------------------

def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if v == int(v) and abs(v) < 1e7:
            return str(int(v))
        return f"{v:.4g}"
    return str(v)


def _ci_map(df, ci) -> dict[str, tuple[str, str]]:
    if ci is None:
        return {}
    pairs = dict(ci) if isinstance(ci, Mapping) else {c: (f"{c}_lo", f"{c}_hi") for c in ([ci] if isinstance(ci, str) else ci)}
    for value, (lo, hi) in pairs.items():
        missing = [c for c in (value, lo, hi) if c not in df.columns]
        if missing:
            raise ValueError(f"table CI columns missing: {missing}")
    return pairs


def _display(df, n, ci) -> tuple[list[str], list[list[str]]]:
    """Header and cell strings with each CI folded into its value column."""
    pairs = _ci_map(df, ci)
    hidden = {c for lo_hi in pairs.values() for c in lo_hi}
    columns = [c for c in df.columns if c not in hidden]
    header = [f"{c} [95% CI]" if c in pairs else str(c) for c in columns]
    rows = []
    for rec in df.to_dict("records"):
        row = []
        for c in columns:
            if c in pairs:
                lo, hi = pairs[c]
                row.append(f"{_fmt(rec[c])} [{_fmt(rec[lo])}, {_fmt(rec[hi])}]")
            else:
                row.append(_fmt(rec[c]))
        rows.append(row)
    return header, rows


def to_markdown(df, n=None, ci=None) -> str:
    header, rows = _display(df, n, ci)
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(esc, header)) + " |",
             "|" + "|".join("---:" if _numeric(df, h) else "---" for h in _plain(header)) + "|"]
    lines += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _plain(header):
    return [h.removesuffix(" [95% CI]") for h in header]


def _numeric(df, col) -> bool:
    import pandas as pd

    return col in df.columns and pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col])


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "–": "--"}


def _tex_escape(s: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in s)


def to_latex(df, caption: str, label: str, n=None, ci=None) -> str:
    """A booktabs table (needs \\usepackage{booktabs})."""
    header, rows = _display(df, n, ci)
    align = "".join("r" if _numeric(df, h) else "l" for h in _plain(header))
    out = ["\\begin{table}[ht]", "\\centering", f"\\caption{{{_tex_escape(caption)}}}", f"\\label{{{label}}}",
           f"\\begin{{tabular}}{{{align}}}", "\\toprule",
           " & ".join(_tex_escape(h) for h in header) + " \\\\", "\\midrule"]
    out += [" & ".join(_tex_escape(c) for c in r) + " \\\\" for r in rows]
    out += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(out) + "\n"


# ---- the writer -----------------------------------------------------------------------------

class Output:
    """Writes one experiment's artifacts into a directory and remembers them (with captions) for the README."""

    def __init__(self, directory: Path | str, experiment: str = ""):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.experiment = experiment or self.directory.name
        self.artifacts: list[dict] = []
        self.notes: dict = {}

    def record(self, key: str, value) -> None:
        """Keep a JSON-ready value in the provenance, not in a table: run times and other facts that are not results.

        Tables are citable and must stay byte-identical when the numbers do; a wall time changes every run.
        """
        import json

        json.dumps(value)  # fail here, not when the provenance is written
        self.notes[str(key)] = value

    def _claim(self, name: str, kind: str, caption: str) -> None:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"bad artifact name {name!r}")
        if any(a["name"] == name for a in self.artifacts):
            raise ValueError(f"artifact {name!r} written twice")
        if not caption or not caption.strip():
            raise ValueError(f"artifact {name!r} needs a one-sentence caption")

    def table(self, name: str, df, caption: str, n: str | None = None,
              ci: Sequence[str] | Mapping[str, tuple[str, str]] | str | None = None, inline: bool = True) -> None:
        """name.csv (all columns), name.md and name.tex (values with their CIs folded in).

        ``inline=False`` marks a long table that results/README.md links to (with its caption) instead of
        reproducing it.
        """
        self._claim(name, "table", caption)
        if n is not None and n not in df.columns:
            raise ValueError(f"table {name!r}: sample-size column {n!r} missing")
        pairs = _ci_map(df, ci)
        df.to_csv(self.directory / f"{name}.csv", index=False, lineterminator="\n")
        (self.directory / f"{name}.md").write_text(to_markdown(df, n, pairs))
        (self.directory / f"{name}.tex").write_text(
            to_latex(df, caption, f"tab:{self.experiment}:{name}", n, pairs))
        self.artifacts.append({"kind": "table", "name": name, "caption": caption.strip(), "n": n,
                               "ci": {k: list(v) for k, v in pairs.items()}, "rows": int(len(df)),
                               "inline": bool(inline)})

    def figure(self, name: str, fig, caption: str) -> None:
        """name.png and name.pdf, byte-stable (no dates, fixed creator strings)."""
        self._claim(name, "figure", caption)
        with plot_style():
            fig.savefig(self.directory / f"{name}.png", format="png", metadata=_PNG_META, dpi=FIG_DPI)
            fig.savefig(self.directory / f"{name}.pdf", format="pdf", metadata=_PDF_META, dpi=FIG_DPI)
        self.artifacts.append({"kind": "figure", "name": name, "caption": caption.strip()})
