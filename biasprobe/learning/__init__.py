"""Learning from the prior: exact posteriors by conditioning the sampler, batched training (P_SGD), PAC-Bayes bounds."""

from biasprobe.learning.condition import Condition, make_condition, parse_table, random_mask
from biasprobe.learning.pacbayes import pac_bayes_bound, pac_bayes_from_p_s
from biasprobe.learning.posterior import Posterior, clopper_pearson, condition_sample, posterior_from_counts
from biasprobe.learning.stored import StoredCounts, evidence, load_counts, posterior_from_table
from biasprobe.learning.training import (MINGARD_2025, PRESETS, VALLE_PEREZ, TrainResult, TrainSpec,
                                         train_conditions, train_runs)

__all__ = ["Condition", "make_condition", "parse_table", "random_mask", "pac_bayes_bound", "pac_bayes_from_p_s",
           "Posterior", "clopper_pearson", "condition_sample", "posterior_from_counts", "StoredCounts", "evidence",
           "load_counts", "posterior_from_table", "TrainResult", "TrainSpec", "train_conditions", "train_runs",
           "VALLE_PEREZ", "MINGARD_2025", "PRESETS"]
