"""The counting measure: every truth-table bit an independent fair coin (the usual 'unbiased' reference)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from biasprobe.priors.base import Prior


@dataclass(frozen=True)
class Counting(Prior):
    """Uniform over all 2^N functions on N points; T ~ Binomial(N, 1/2). Outputs are +-1."""

    name: ClassVar[str] = "counting"
    summary: ClassVar[str] = "every truth-table bit an independent fair coin (uniform over all functions)"

    def draw_outputs(self, rng: np.random.Generator, count: int, domain) -> np.ndarray:
        n = domain.n_points
        words = rng.bit_generator.random_raw((count, (n + 63) // 64))
        bits = np.unpackbits(words.astype("<u8").view(np.uint8), axis=1, bitorder="little")[:, :n]
        return np.where(bits == 1, np.float32(1.0), np.float32(-1.0))
