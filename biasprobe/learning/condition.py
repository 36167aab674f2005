"""A training set S on a domain: the target's truth table and the training mask, packed, with the vectorised consistency test.

S is the pair (target t, mask M): input i is a training input iff bit i of M is 1,
labelled t(i); the other inputs are the test inputs. Both are truth tables in the
hex format of docs/definitions.md §1 (canonical order, big-endian, ceil(N/4) digits), so
a packed function f agrees with S iff ((f ^ t) & M) == 0 in every word.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from biasprobe import tables
from biasprobe.errors import UserError

def popcount(words: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (any shape), as int64."""
    return np.bitwise_count(np.asarray(words, dtype=np.uint64)).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Condition:
    """Target truth table and training mask of S on a domain of `n_points` inputs (packed, canonical order)."""

    target: np.ndarray  # (W,) uint64
    mask: np.ndarray  # (W,) uint64, bit i = 1: input i is a training input
    n_points: int

    def __post_init__(self):
        w = tables.n_words(self.n_points)
        for name in ("target", "mask"):
            arr = np.ascontiguousarray(getattr(self, name), dtype=np.uint64).reshape(-1)
            if arr.shape != (w,):
                raise ValueError(f"{name} must be {w} packed words for {self.n_points} points")
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        if self.m == 0:
            raise UserError("the training mask selects no training inputs; set at least one bit")
        if self.n_test == 0:
            raise UserError(f"the training mask selects all {self.n_points} inputs; leave at least one test input")

    @cached_property
    def test(self) -> np.ndarray:
        """(W,) uint64: bit i = 1 iff input i is a test input."""
        test = np.ascontiguousarray(~self.mask & _valid_bits(self.n_points))
        test.flags.writeable = False
        return test

    @property
    def m(self) -> int:
        """Number of training inputs."""
        return int(popcount(self.mask).sum())

    @property
    def n_test(self) -> int:
        return self.n_points - self.m

    @property
    def target_hex(self) -> str:
        return tables.to_hex(self.target[None, :], self.n_points)[0]

    @property
    def mask_hex(self) -> str:
        return tables.to_hex(self.mask[None, :], self.n_points)[0]

    def target_bits(self) -> np.ndarray:
        """(N,) uint8 target truth table, canonical order."""
        return tables.unpack(self.target[None, :], self.n_points)[0]

    def mask_bits(self) -> np.ndarray:
        """(N,) bool: True at the training inputs."""
        return tables.unpack(self.mask[None, :], self.n_points)[0].astype(bool)

    def accepts(self, words: np.ndarray) -> np.ndarray:
        """(B,) bool: which packed functions (B, W) agree with the target on every training input."""
        diff = (np.asarray(words, dtype=np.uint64) ^ self.target) & self.mask
        # OR the word columns together: about twice as fast as .any(axis=1) on (4096, 2) batches
        acc = diff[:, 0].copy()
        for j in range(1, diff.shape[1]):
            acc |= diff[:, j]
        return acc == 0

    def test_mistakes(self, words: np.ndarray) -> np.ndarray:
        """(B,) int64: test inputs where each packed function differs from the target."""
        return popcount((np.asarray(words, dtype=np.uint64) ^ self.target) & self.test).sum(axis=1)

    def test_errors(self, words: np.ndarray) -> np.ndarray:
        """(B,) float64: fraction of test inputs where each packed function differs from the target."""
        return self.test_mistakes(words) / self.n_test

    def train_mistakes(self, words: np.ndarray) -> np.ndarray:
        return popcount((np.asarray(words, dtype=np.uint64) ^ self.target) & self.mask).sum(axis=1)

    def describe(self) -> dict:
        """JSON-ready record of S (what a sidecar stores)."""
        return {"target": self.target_hex, "mask": self.mask_hex, "m": self.m, "n_test": self.n_test,
                "n_points": self.n_points}


def _valid_bits(n_points: int) -> np.ndarray:
    """(W,) uint64 with the N table bits set (the left padding of the first word clear)."""
    return tables.pack(np.ones((1, n_points), np.uint8))[0]


def parse_table(text, domain, what: str) -> np.ndarray:
    """A hex truth table of exactly ceil(N/4) digits (docs/definitions.md §1) -> (W,) packed words, or a one-line UserError."""
    n = domain.n_points
    digits = tables.hex_digits(n)
    raw = str(text).strip().lower()
    if raw.startswith("0x"):
        raw = raw[2:]
    if len(raw) != digits:
        raise UserError(f"{what} {str(text)!r} has {len(raw)} hex digits; {domain} needs exactly {digits}"
                        f" (the truth table of docs/definitions.md §1)")
    if any(ch not in "0123456789abcdef" for ch in raw):
        raise UserError(f"{what} {str(text)!r} is not a hex truth table")
    if int(raw, 16) >> n:
        raise UserError(f"{what} {str(text)!r} sets bits beyond the {n} inputs of {domain}")
    return tables.from_hex([raw], n)[0]


def random_mask(n_points: int, m: int, seed: int) -> np.ndarray:
    """(N,) bool with exactly m training inputs, a seeded uniform subset (the same for every prior and run)."""
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 0 < m < n_points:
        raise UserError(f"train size {m!r} must lie in 1..{n_points - 1} for a domain of {n_points} inputs")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"split seed must be a non-negative integer, got {seed!r}")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), n_points, int(m)])))
    mask = np.zeros(n_points, dtype=bool)
    mask[rng.choice(n_points, int(m), replace=False)] = True
    return mask


def make_condition(domain, target, train=None, train_size=None, split_seed=None) -> Condition:
    """S from a target (hex string or (N,) 0/1 array) and either a training mask (hex or (N,) bool)
    or a seeded random split of `train_size` inputs (`split_seed`, default 0)."""
    n = domain.n_points
    target_words = _table(target, domain, "target")
    if (train is None) == (train_size is None):
        raise UserError("give either a training mask (--train) or a train size (--train-size), not both or neither")
    if train is None:
        mask = random_mask(n, train_size, 0 if split_seed is None else split_seed)
        mask_words = tables.pack(mask[None, :].astype(np.uint8))[0]
    else:
        if split_seed is not None:
            raise UserError("--split-seed only goes with --train-size")
        mask_words = _table(train, domain, "training mask")
    return Condition(target_words, mask_words, n)


def _table(value, domain, what: str) -> np.ndarray:
    if isinstance(value, (str, bytes)):
        return parse_table(value.decode() if isinstance(value, bytes) else value, domain, what)
    bits = np.asarray(value)
    if bits.shape != (domain.n_points,):
        raise UserError(f"{what} has shape {bits.shape}; {domain} needs ({domain.n_points},)")
    return tables.pack(bits[None, :].astype(np.uint8))[0]
