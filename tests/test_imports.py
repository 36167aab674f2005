"""Every `from biasprobe... import name` in the package and the experiments resolves, including imports inside functions.

Lazy imports (inside a function, to keep start-up fast) are invisible to pyflakes and to
importing the module, so a renamed helper would only fail when that path runs (the bench's
sections once did). This reads every such statement and checks the name exists.
"""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "biasprobe").rglob("*.py"), *(ROOT / "experiments").glob("*.py")])


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "biasprobe":
            yield node.lineno, node.module, [a.name for a in node.names]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_biasprobe_import_resolves(path):
    missing = []
    for line, module, names in _imports(path):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name and err.name.split(".")[0] != "biasprobe":
                continue  # an optional extra (dask, devinterp) that this install lacks
            missing.append(f"{path.name}:{line}: no module {module}")
            continue
        for name in names:
            if name == "*" or hasattr(mod, name):
                continue
            try:
                importlib.import_module(f"{module}.{name}")
            except ModuleNotFoundError:
                missing.append(f"{path.name}:{line}: {module} has no {name}")
    assert not missing, "\n".join(missing)
