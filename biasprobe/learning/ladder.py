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


def named_targets(domain) -> dict:
    """Structured targets from docs/definitions.md §2's K_LZ unit table, on any Boolean cube (canonical order).

    x_1 (the most significant input), the repeating patterns 0001, 1001 and 10011010, majority
    (more ones than zeros among the inputs) and parity: balanced functions, unlike most
    low-K_LZ functions a random network draws.
    """
    n = domain.n_points
    x01 = (domain.points > 0).astype(np.int64)
    tile = lambda pattern: np.resize(np.array([int(c) for c in pattern], np.uint8), n)  # noqa: E731
    return {"x_1": x01[:, 0].astype(np.uint8), "0001 repeated": tile("0001"), "1001 repeated": tile("1001"),
            "10011010 repeated": tile("10011010"),
            "majority": (x01.sum(1) > domain.dim / 2).astype(np.uint8),
            "parity": (x01.sum(1) % 2).astype(np.uint8)}


def target_ladder(domain, pools: dict, edges, per_band: int, seed: int, fixed: dict | None = None) -> pd.DataFrame:
    """Pick `per_band` distinct targets in each K_LZ band [edges[i], edges[i+1]) from labelled candidate pools.

    `pools`: {source label: (D, N) uint8 truth tables}. Candidates are deduplicated (the first
    source naming a function keeps it); band i draws from its own stream
    SeedSequence([seed, i]), so changing one band never moves another. A band with fewer
    candidates than `per_band` keeps them all. Returns target (hex), lz, ones, band, source,
    sorted by lz then target. `fixed` ({name: (N,) truth table}) are always included, with
    source "named: NAME".
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
    taken = {r["target"] for r in rows}
    for name, table in (fixed or {}).items():
        table = np.asarray(table, np.uint8)[None, :]
        hexname = tables.bits_to_hex(table)[0]
        if hexname in taken:
            continue
        k = float(compute(["lz"], table, domain)["lz"][0])
        band = next((f"[{lo:g}, {hi:g})" for lo, hi in zip(edges[:-1], edges[1:]) if lo <= k < hi), "outside")
        rows.append({"target": hexname, "lz": k, "ones": int(table.sum()), "band": band, "source": f"named: {name}"})
        taken.add(hexname)
    frame = pd.DataFrame(rows, columns=["target", "lz", "ones", "band", "source"])
    return frame.sort_values(["lz", "target"], ignore_index=True)
