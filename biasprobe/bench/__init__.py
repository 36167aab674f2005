"""`make bench`: speed measurements of the sampler (and, when present, the measures), written to results/bench/."""
