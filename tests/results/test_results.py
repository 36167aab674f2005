"""Table/figure writers and confidence intervals, against hand-worked values."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from biasprobe.results import Output, mean_ci, new_figure, wilson_ci


def test_wilson_ci_hand_values():
    # 5/10: the textbook Wilson interval (0.2366, 0.7634)
    lo, hi = wilson_ci(5, 10)
    assert lo == pytest.approx(0.23659, abs=1e-4) and hi == pytest.approx(0.76341, abs=1e-4)
    # 0/n: lower bound exactly 0, upper z^2/(n+z^2)
    z2 = 1.959963984540054**2
    lo, hi = wilson_ci(0, 10)
    assert lo == 0.0 and hi == pytest.approx(z2 / (10 + z2), rel=1e-9)
    lo, hi = wilson_ci(np.array([10, 3]), np.array([10, 30]))
    assert hi[0] == 1.0 and lo[1] < 0.1 < hi[1]


def test_mean_ci_hand_values():
    # mean 3, sd sqrt(2.5), t_{0.975,4} = 2.776445 -> half-width 1.96324
    m, lo, hi = mean_ci([1, 2, 3, 4, 5])
    assert m == 3 and lo == pytest.approx(3 - 1.96324, abs=1e-4) and hi == pytest.approx(3 + 1.96324, abs=1e-4)


def test_table_writes_csv_md_tex(tmp_path):
    df = pd.DataFrame({"prior_name": ["a_b", "c"], "n": [10, 20], "p": [0.5, 0.25],
                       "p_lo": [0.2366, 0.1], "p_hi": [0.7634, 0.45]})
    out = Output(tmp_path, "toy")
    out.table("t1", df, caption="A toy table with 50% rows.", n="n", ci=["p"])
    back = pd.read_csv(tmp_path / "t1.csv")
    assert list(back.columns) == list(df.columns) and back["p_hi"].tolist() == [0.7634, 0.45]
    md = (tmp_path / "t1.md").read_text()
    assert "p [95% CI]" in md and "0.5 [0.2366, 0.7634]" in md and "p_lo" not in md
    tex = (tmp_path / "t1.tex").read_text()
    for piece in ("\\toprule", "\\midrule", "\\bottomrule", "a\\_b", "50\\%", "tab:toy:t1"):
        assert piece in tex
    assert out.artifacts[0]["ci"] == {"p": ["p_lo", "p_hi"]} and out.artifacts[0]["n"] == "n"


def test_table_rejects_missing_columns_and_captions(tmp_path):
    out = Output(tmp_path)
    df = pd.DataFrame({"p": [0.1]})
    with pytest.raises(ValueError):
        out.table("x", df, caption="c.", ci=["p"])
    with pytest.raises(ValueError):
        out.table("y", df, caption="c.", n="n")
    with pytest.raises(ValueError):
        out.table("z", df, caption="  ")


_FIG_SCRIPT = """
import sys, numpy as np
from biasprobe.results import Output, new_figure
fig, ax = new_figure(1, 2)
x = np.linspace(0, 1, 50)
ax[0].plot(x, x**2, label="square"); ax[0].legend(); ax[0].set_title("a $\\\\alpha$ title")
ax[1].hist(np.random.default_rng(0).normal(size=500), bins=20)
Output(sys.argv[1]).figure("f", fig, caption="A toy figure.")
"""


def test_figures_byte_stable_across_processes(tmp_path):
    for i, salt in enumerate(("1", "12345")):
        env = {**os.environ, "PYTHONHASHSEED": salt}
        subprocess.run([sys.executable, "-c", _FIG_SCRIPT, str(tmp_path / f"r{i}")], check=True, env=env)
    for ext in ("png", "pdf"):
        a = (tmp_path / "r0" / f"f.{ext}").read_bytes()
        b = (tmp_path / "r1" / f"f.{ext}").read_bytes()
        assert len(a) > 1000 and a == b, ext
    assert b"CreationDate" not in (tmp_path / "r0" / "f.pdf").read_bytes()


def test_new_figure_not_in_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig, ax = new_figure()
    assert plt.get_fignums() == before and ax is not None
