"""The Boolean bridge: MLP width sweeps on half a 7-input truth table, with the learned functions measured."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.doubledescent.datasets import flip_labels
from biasprobe.doubledescent.mlp import TrainConfig, map_tasks, train_members
from biasprobe.errors import UserError, unknown_name


def _majority(x):
    return x.sum(1) > x.shape[1] / 2


def _parity(x):
    return x.sum(1) % 2 == 1


def _x1(x):
    return x[:, 0] > 0


def _mux(x):
    # 2-address multiplexer on x1 x2 selecting one of x3..x6; x7 is irrelevant.
    address = (2 * x[:, 0] + x[:, 1]).astype(int)
    return x[np.arange(len(x)), 2 + address] > 0


def _constant(x):
    return np.zeros(len(x), dtype=bool)


TARGETS = {"constant": _constant, "x1": _x1, "mux": _mux, "majority": _majority, "parity": _parity}
DESCRIPTIONS = {"constant": "constant 0", "x1": "dictator x_1", "mux": "2-address multiplexer (x_7 unused)",
                "majority": "majority", "parity": "parity"}
PATTERNS = ["hex:DIGITS", "counting:SEED", "mlp:SEED:KMIN:KMAX"]
NETWORK_PRIOR = {"hidden": (40, 40), "activation": "relu", "convention": "a"}


def target_table(name: str, domain) -> np.ndarray:
    """Canonical-order truth table (uint8) of a target on a Boolean domain.

    Named targets (`TARGETS`), `hex:DIGITS`, `counting:SEED` (a uniformly random function: every
    bit a fair coin from SeedSequence([SEED, N])) or `mlp:SEED:KMIN:KMAX` (the first draw, in
    sampling order, with KMIN <= K_LZ < KMAX of the 7-40-40-1 ReLU prior, convention (a) of
    docs/definitions.md §1, sampled with seed SEED): reproducible functions from the counting
    measure and from networks.
    """
    if name.startswith("hex:"):
        from biasprobe.tables import hex_to_bits

        return hex_to_bits([name[4:]], domain.n_points)[0].astype(np.uint8)
    if name.startswith("counting:"):
        seed = _seed_field(name, name.split(":", 1)[1])
        return np.random.default_rng(np.random.SeedSequence([seed, domain.n_points])).integers(
            0, 2, domain.n_points).astype(np.uint8)
    if name.startswith("mlp:"):
        parts = name.split(":")
        if len(parts) != 4:
            raise UserError(f"target {name!r}: write mlp:SEED:KMIN:KMAX, e.g. mlp:0:100:125")
        return _network_draw(domain, _seed_field(name, parts[1]), _number(name, parts[2]), _number(name, parts[3]))
    if name not in TARGETS:
        raise unknown_name("target function", name, [*TARGETS, *PATTERNS])
    x01 = (domain.points > 0).astype(np.int64)  # works for bool (0/1) and pm1 (±1) alike
    return TARGETS[name](x01).astype(np.uint8)


def describe_target(name: str) -> str:
    """One phrase saying what a target is (for tables and captions)."""
    if name.startswith("hex:"):
        return f"truth table {name[4:]}"
    if name.startswith("counting:"):
        return f"uniformly random function (counting measure), seed {name.split(':')[1]}"
    if name.startswith("mlp:"):
        _, seed, kmin, kmax = name.split(":")
        return (f"first draw with {kmin} <= K_LZ < {kmax} of 7-40-40-1 ReLU, W ~ N(0, 1/fan_in), b ~ N(0, 1), "
                f"seed {seed}")
    return DESCRIPTIONS.get(name, name)


def _seed_field(name: str, text: str) -> int:
    if not text.isdigit() or int(text) >= 2**63:
        raise UserError(f"target {name!r}: the seed must be an integer in 0..2^63-1, got {text!r}")
    return int(text)


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UserError(f"target {name!r}: KMIN and KMAX must be numbers, got {text!r}") from None


def _network_draw(domain, seed: int, kmin: float, kmax: float) -> np.ndarray:
    """The first draw with kmin <= K_LZ < kmax of the network prior (draws are a prefix-stable sequence)."""
    from biasprobe.measures import compute
    from biasprobe.priors import make_prior
    from biasprobe.sampling import sample_outputs

    prior = make_prior("mlp", **NETWORK_PRIOR)
    for samples in (4096, 65536):
        bits = (sample_outputs(prior, domain, samples, seed) > 0).astype(np.uint8)
        k = compute("lz", bits, domain)["lz"]
        hits = np.flatnonzero((k >= kmin) & (k < kmax))
        if hits.size:
            return bits[hits[0]]
    raise UserError(f"no draw with {kmin:g} <= K_LZ < {kmax:g} among the first {samples} of the network prior "
                    f"(seed {seed})")


def train_split(n_points: int, n_train: int, seed: int) -> np.ndarray:
    """Boolean mask of the `n_train` training inputs, a seeded uniform subset shared by every width."""
    if not 0 < n_train < n_points:
        raise UserError(f"train size must lie in 1..{n_points - 1}, got {n_train}")
    idx = np.random.default_rng(np.random.SeedSequence([seed, n_points, n_train])).choice(n_points, n_train, replace=False)
    mask = np.zeros(n_points, dtype=bool)
    mask[idx] = True
    return mask


def _train_width(width: int, domain_spec: str, mask: list[bool], labels: list[list[int]], member_seeds: list[int],
                 config: dict) -> dict:
    """Train every member at one width; return the learned truth tables on all inputs (plain lists, cheap to send)."""
    from biasprobe.domains import parse_domain

    x_all = parse_domain(domain_spec).points
    result = train_members(x_all[np.asarray(mask)], np.asarray(labels), width, member_seeds, TrainConfig(**config),
                           x_eval={"all": x_all}, outputs=1)
    out = result["outputs"]["all"][..., 0]
    return {"params": int(result["params"]), "nonfinite": int((~np.isfinite(out)).sum()),
            "bits": (out > 0).astype(np.uint8).tolist()}


def width_sweep(target, widths, seeds: int, noises=(0.0,), n_train: int = 64, domain_spec: str = "bool:7",
                measures=("lz", "entropy", "sensitivity"), config: TrainConfig = TrainConfig(), workers: int = 1,
                seed: int = 0) -> pd.DataFrame:
    """Train MLPs n → w → w → 1 for every target, width w, seed and label-noise fraction; measure what they learned.

    `target` is one target name or a list of them (`target_table`); all targets' networks at one
    width train together as one batch. The training inputs are one seeded subset of `n_train`
    inputs (half the cube by default), shared by every target, width and seed; a noise fraction
    f flips exactly round(f·n_train) training labels, at positions drawn per (seed, noise), the
    same for every target, and seed s starts from the same initial network for every target and
    noise: a paired design, and a target's rows do not depend on which other targets run beside
    it. After training, every network is evaluated on all inputs and thresholded at 0
    (docs/definitions.md §1); its truth table is measured with the registered measures
    (`biasprobe.measures.compute`). Rows carry the train error on the labels trained on, the test
    error on the held-out inputs against the clean target, the error on all inputs, the learned
    function's hex name, its measures and the target's (`target_*`).
    """
    from dataclasses import asdict

    from biasprobe.domains import parse_domain
    from biasprobe.measures import compute as compute_measures
    from biasprobe.tables import bits_to_hex

    domain = parse_domain(domain_spec)
    if not domain.is_boolean:
        raise UserError(f"the Boolean bridge needs a Boolean domain, got {domain_spec!r}")
    names = [target] if isinstance(target, str) else list(target)
    if not names or len(set(names)) != len(names):
        raise UserError(f"targets must be distinct and at least one, got {names}")
    tables = np.stack([target_table(t, domain) for t in names])
    mask = train_split(domain.n_points, n_train, seed)
    target_measures = compute_measures(list(measures), tables, domain)
    members = []  # (target index, seed index, noise, labels)
    for s, ss in enumerate(np.random.SeedSequence([seed, 7]).spawn(seeds)):
        streams = ss.spawn(len(noises))
        for t, table in enumerate(tables):
            for k, noise in enumerate(noises):
                # a fresh generator from the same stream: the same flipped positions for every target
                labels, _ = flip_labels(table[mask], noise, 2, np.random.default_rng(streams[k]))
                members.append((t, s, float(noise), labels))
    labels = np.stack([m[3] for m in members])
    member_seeds = [seed * 1_000_003 + 7919 * m[1] + 1 for m in members]  # the same init for a seed everywhere
    tasks = [{"width": int(w), "domain_spec": domain_spec, "mask": mask.tolist(), "labels": labels.tolist(),
              "member_seeds": member_seeds, "config": asdict(config)} for w in widths]
    rows = []
    for width, result in zip(widths, map_tasks(_train_width, tasks, workers)):
        if result["nonfinite"]:
            raise RuntimeError(f"{result['nonfinite']} non-finite network outputs at width {width}; lower the learning rate")
        bits = np.asarray(result["bits"], dtype=np.uint8)
        values = compute_measures(list(measures), bits, domain)
        hexes = bits_to_hex(bits)
        for m, (t, s, noise, lab) in enumerate(members):
            wrong = bits[m] != tables[t]
            rows.append({"target": names[t], "width": int(width), "params": result["params"], "seed": s,
                         "noise": noise, "train_error": float(np.mean(bits[m][mask] != lab)),
                         "test_error": float(np.mean(wrong[~mask])), "error_all": float(np.mean(wrong)),
                         "function": hexes[m],
                         **{name: float(values[name][m]) for name in measures},
                         **{f"target_{name}": float(target_measures[name][t]) for name in measures}})
    return pd.DataFrame(rows)
