"""Evaluation of per-frame video embeddings: pure task functions over lists of per-video arrays.

Every function takes lists of NumPy arrays (embeddings [T_i, D], labels [T_i] with -1 for an
unlabelled frame, or None) and needs only NumPy / SciPy / scikit-learn, so it is callable from a
notebook. Label tasks raise `MissingLabelsError` on unlabelled data; catch it to skip the task.

Keep this package importable without TensorFlow: import TF-dependent modules (embedding,
`algo_loss`) from their own modules, not here.
"""

from tcc.evaluation.few_shot import few_shot_classification
from tcc.evaluation.kendalls_tau import kendalls_tau, kendalls_tau_per_pair
from tcc.evaluation.phase_classification import MissingLabelsError, phase_classification
from tcc.evaluation.phase_progression import phase_progression, phase_progression_per_boundary
from tcc.evaluation.plots import few_shot_figure, few_shot_png, plot_few_shot_curves
from tcc.evaluation.retrieval import retrieval_ap

__all__ = [
    "MissingLabelsError",
    "few_shot_classification",
    "few_shot_figure",
    "few_shot_png",
    "kendalls_tau",
    "kendalls_tau_per_pair",
    "phase_classification",
    "phase_progression",
    "phase_progression_per_boundary",
    "plot_few_shot_curves",
    "retrieval_ap",
]
