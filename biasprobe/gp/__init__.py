"""Gaussian processes on a domain's points: kernels (NNGP and reference kernels), exact draws, EP and orthant P(S)."""
