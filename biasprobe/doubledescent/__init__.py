"""Double descent: closed-form curves, min-norm and random-features models, offline data sets and MLP width sweeps.

Modules: `theory` (Hastie et al. and Mei–Montanari formulas), `linear` (min-norm least squares
sweeps), `features` (random ReLU and Fourier features), `datasets` (digits, MNIST-1D, label
noise), `mlp` (batched seeded SGD training) and `boolean` (the bridge to the complexity measures).
Heavy imports (torch, the measures) happen inside the functions that need them.
"""
