"""Singular learning theory: the local learning coefficient (LLC) by SGLD, its oracles with closed forms, and tuning."""

from biasprobe.slt.sgld import LLCResult, LLCWarning, SGLDConfig, sample_llc
from biasprobe.slt.theory import Theory, dln, monomial, regular, rrr

__all__ = ["LLCResult", "LLCWarning", "SGLDConfig", "sample_llc", "Theory", "dln", "monomial", "regular", "rrr"]
