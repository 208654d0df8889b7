"""Training algorithms on one common trainer; importing this package registers them all."""

from tcc.algos import alignment, combined, sal, supervised, tcn  # noqa: F401
from tcc.algos.base import ALGORITHMS, Algorithm, build_algorithm

__all__ = ["ALGORITHMS", "Algorithm", "build_algorithm"]
