"""The one exception type for mistakes a user can make, and the close-match helper."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(ValueError):
    """A bad config, unknown name or impossible size: the CLI prints it as one line, exit code 2.

    Bugs raise anything else and keep their traceback.
    """


def unknown_name(kind: str, name: str, known: Iterable[str]) -> UserError:
    """`unknown measure 'lzz' (did you mean: lz, lz_phrases?); known: ...` as a UserError."""
    known = sorted(known)
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
    hint = f" (did you mean: {', '.join(close)}?)" if close else ""
    return UserError(f"unknown {kind} {name!r}{hint}; known: {', '.join(known) or '(none)'}")
