"""Fingerprints of code: what an experiment's cached numbers depend on, blind to comments and docstrings.

An experiment's compute fingerprint covers its ``compute`` function and every
module-level definition it reaches in its own file (helpers, constants), any
non-library, non-installed module it imports (a sibling helper file), the library
code that can move numbers (every ``biasprobe`` module but the presentation,
command-line, bench and pipeline code) and the plug-ins loaded. Code is hashed as its
syntax tree without docstrings, so editing a comment or a docstring keeps every cache,
while any change to what runs recomputes.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import inspect
import sys
import sysconfig
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
# Library code that cannot change what compute returns: presentation, CLI, bench, provenance and this runner.
NOT_COMPUTE = ("results.py", "commands/", "bench/", "pipeline/", "__main__.py", "cli.py", "provenance.py",
               "testing.py")


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def normalised(source: str) -> str:
    """The code's syntax tree without docstrings, as text: comments, layout and docstrings do not count."""
    return ast.dump(_strip_docstrings(ast.parse(source)), annotate_fields=False, include_attributes=False)


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


@functools.cache
def _file_digest(path: str, mtime_ns: int) -> str:
    return _digest(normalised(Path(path).read_text()))


def file_fingerprint(path: Path | str) -> str:
    path = Path(path)
    return _file_digest(str(path), path.stat().st_mtime_ns)


def library_fingerprint(compute_only: bool = True) -> str:
    """Hash of the package's modules (only those that can move numbers when compute_only), docstrings ignored."""
    rels = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))
    if compute_only:
        rels = [r for r in rels if not r.startswith(NOT_COMPUTE)]
    return _digest(*(f"{r}:{file_fingerprint(PACKAGE / r)}" for r in rels))


def _is_local_module(module) -> bool:
    """A module from a plain folder (not biasprobe, not the standard library, not an installed package)."""
    path = getattr(module, "__file__", None)
    if not path:
        return False
    path = Path(path).resolve()
    if path.is_relative_to(PACKAGE):
        return False
    roots = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    return not any(path.is_relative_to(Path(r).resolve()) for r in roots)


def _definitions(tree: ast.Module) -> dict[str, ast.AST]:
    out: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for name in ast.walk(t):
                    if isinstance(name, ast.Name):
                        out.setdefault(name.id, node)
    return out


def _imported_modules(node: ast.AST, module_name: str) -> list[str]:
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Import):
            found += [a.name for a in sub.names]
        elif isinstance(sub, ast.ImportFrom) and sub.module is not None:
            base = sub.module
            if sub.level:
                base = importlib.util.resolve_name("." * sub.level + sub.module, module_name.rpartition(".")[0])
            found.append(base)
            found += [f"{base}.{a.name}" for a in sub.names]
    return found


def function_fingerprint(func) -> str:
    """The code `func` runs from its own file: its tree plus every module-level name it reaches there, transitively.

    Top-level imports of the file count too, and so does the whole source of any local
    (non-installed) module it imports. Library and installed code is covered elsewhere
    (library fingerprint, package versions).
    """
    module = inspect.getmodule(func)
    source_file = inspect.getsourcefile(func)
    tree = ast.parse(Path(source_file).read_text())
    _strip_docstrings(tree)
    defs = _definitions(tree)
    name = func.__name__
    start = defs.get(name)
    if start is None:  # a lambda or nested function: its own source only
        return _digest(normalised(inspect.getsource(func)))
    seen: dict[str, ast.AST] = {}
    todo = [name]
    while todo:
        cur = todo.pop()
        if cur in seen or cur not in defs:
            continue
        seen[cur] = defs[cur]
        for sub in ast.walk(defs[cur]):
            if isinstance(sub, ast.Name) and sub.id in defs and sub.id not in seen:
                todo.append(sub.id)
    parts = [ast.dump(seen[k], annotate_fields=False, include_attributes=False) for k in sorted(seen)]
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    parts += [ast.dump(n, annotate_fields=False, include_attributes=False) for n in imports]
    modname = getattr(module, "__name__", "")
    for node in [*seen.values(), *imports]:
        for dep in _imported_modules(node, modname):
            mod = sys.modules.get(dep)
            if mod is not None and mod is not module and _is_local_module(mod):
                parts.append(f"{dep}:{file_fingerprint(mod.__file__)}")
    return _digest(*sorted(set(parts)))


def plugins_fingerprint() -> list[dict]:
    """Every plug-in any registry can load: its entry point, distribution, version and the hash of its module's code."""
    from biasprobe import provenance
    from biasprobe.measures import MEASURES
    from biasprobe.pipeline.spec import EXPERIMENTS
    from biasprobe.priors import PRIORS

    for reg in (MEASURES, PRIORS, EXPERIMENTS):
        reg.load_plugins()
    out = []
    for rec in provenance.plugins():
        mod = sys.modules.get(rec["value"].partition(":")[0])
        code = file_fingerprint(mod.__file__) if getattr(mod, "__file__", None) else None
        out.append({**rec, "code": code})
    return out
