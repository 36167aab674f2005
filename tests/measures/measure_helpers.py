"""Test helpers: hand-built Boolean functions and an independent pure-Python Kaspar-Schuster counter."""

from __future__ import annotations

from math import comb

import numpy as np


def coords(n: int) -> np.ndarray:
    """(2^n, n) 0/1 inputs in canonical order: x_1 is the most significant bit."""
    i = np.arange(1 << n)
    return ((i[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1).astype(np.uint8)


def table(values) -> np.ndarray:
    return np.asarray(values, dtype=np.uint8)[None, :]


def dictator(n: int, j: int) -> np.ndarray:
    return table(coords(n)[:, j])


def parity(n: int) -> np.ndarray:
    return table(coords(n).sum(axis=1) % 2)


def majority(n: int) -> np.ndarray:
    return table(coords(n).sum(axis=1) > n // 2)


def single_point(n: int, index: int) -> np.ndarray:
    t = np.zeros((1, 1 << n), dtype=np.uint8)
    t[0, index] = 1
    return t


def bits(text: str) -> np.ndarray:
    return table([int(c) for c in text])


def ks_phrases(s) -> int:
    """Kaspar & Schuster (1987) phrase count, transcribed from the paper's flow chart (one index at a time)."""
    n = len(s)
    if n == 1:
        return 1
    i, k, l, c, k_max = 0, 1, 1, 1, 1
    while True:
        if s[i + k - 1] == s[l + k - 1]:
            k += 1
            if l + k > n:
                c += 1
                break
        else:
            k_max = max(k, k_max)
            i += 1
            if i == l:
                c += 1
                l += k_max
                if l + 1 > n:
                    break
                i, k, k_max = 0, 1, 1
            else:
                k = 1
    return c


def binom(n, k):
    return comb(n, k)
