"""Singular learning theory: the local learning coefficient (LLC) by SGLD, its oracles with closed forms, and tuning.

Entry points: `estimate_llc` (any torch module with data and a per-sample NLL), `sample_llc` (any
potential at fixed hyperparameters), `estimate` / `auto_config` (automatic ε and γ), `make_toy`
(oracle models with closed-form λ), `StackedMLP` / `MLPPotential` (the suite's network priors on
Boolean domains) and the closed forms `regular`, `monomial`, `rrr`, `dln`.
"""

from biasprobe.slt.mlp import MLPPotential, StackedMLP
from biasprobe.slt.potentials import ModelPotential, estimate_llc
from biasprobe.slt.sgld import LLCResult, LLCWarning, SGLDConfig, sample_llc
from biasprobe.slt.theory import Theory, dln, monomial, regular, rrr
from biasprobe.slt.toys import make_toy
from biasprobe.slt.tuning import auto_config, estimate

__all__ = ["LLCResult", "LLCWarning", "SGLDConfig", "sample_llc", "estimate_llc", "estimate", "auto_config",
           "ModelPotential", "MLPPotential", "StackedMLP", "make_toy", "Theory", "dln", "monomial", "regular", "rrr"]
