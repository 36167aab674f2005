"""A reproducible ladder of target functions spanning K_LZ: seeded picks per complexity band from pools of candidate functions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe import tables


def flipped(bits: np.ndarray, flips, rng: np.random.Generator) -> np.ndarray:
    """Copies of each (D, N) truth table with flips[i] distinct random bits complemented (a seeded path up in K)."""
    bits = np.array(bits, dtype=np.uint8, copy=True)
    flips = np.broadcast_to(np.asarray(flips, dtype=np.int64), (len(bits),))
    for i, k in enumerate(flips):
        bits[i, rng.choice(bits.shape[1], int(k), replace=False)] ^= 1
    return bits


def target_ladder(domain, pools: dict, edges, per_band: int, seed: int) -> pd.DataFrame:
    """Pick `per_band` distinct targets in each K_LZ band [edges[i], edges[i+1]) from labelled candidate pools.

    `pools`: {source label: (D, N) uint8 truth tables}. Candidates are deduplicated (the first
    source naming a function keeps it); band i draws from its own stream
    SeedSequence([seed, i]), so changing one band never moves another. A band with fewer
    candidates than `per_band` keeps them all. Returns target (hex), lz, ones, band, source,
    sorted by lz then target.
    """
    from biasprobe.measures import compute

    labels, chunks = [], []
    for label, bits in pools.items():
        bits = np.asarray(bits, dtype=np.uint8)
        chunks.append(bits)
        labels += [label] * len(bits)
    bits = np.concatenate(chunks) if chunks else np.zeros((0, domain.n_points), np.uint8)
    words = tables.pack(bits)
    _, first = np.unique(words, axis=0, return_index=True)
    first = np.sort(first)
    bits, labels = bits[first], np.asarray(labels)[first]
    lz = compute(["lz"], bits, domain)["lz"]
    rows = []
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        inside = np.flatnonzero((lz >= lo) & (lz < hi))
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), i])))
        pick = inside if len(inside) <= per_band else rng.choice(inside, per_band, replace=False)
        for j in pick:
            rows.append({"target": tables.bits_to_hex(bits[j][None, :])[0], "lz": float(lz[j]),
                         "ones": int(bits[j].sum()), "band": f"[{lo:g}, {hi:g})", "source": str(labels[j])})
    frame = pd.DataFrame(rows, columns=["target", "lz", "ones", "band", "source"])
    return frame.sort_values(["lz", "target"], ignore_index=True)
