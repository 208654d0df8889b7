"""Training algorithms on one common trainer; importing this package registers them all.

`build_algorithm(cfg)` is the public entry: it reads the algorithm's options from the config
(`AlgorithmOptions.from_config`, the one place) and builds `cfg.training_algo`.
"""

import ml_collections

from tcc.algos import alignment, combined, sal, supervised, tcn  # noqa: F401 (registers them)
from tcc.algos.base import ALGORITHMS, Algorithm
from tcc.algos.options import AlgorithmOptions

__all__ = ["ALGORITHMS", "Algorithm", "AlgorithmOptions", "build_algorithm"]


def build_algorithm(cfg: ml_collections.ConfigDict) -> Algorithm:
    """Instantiates the algorithm named by `cfg.training_algo` (see `ALGORITHMS.names()`)."""
    options = AlgorithmOptions.from_config(cfg)
    return ALGORITHMS.get(cfg.training_algo)(options, name=cfg.training_algo)
