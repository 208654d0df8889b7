"""Applications of temporal alignment (paper §6): align, play in sync, transfer, retrieve, detect;
and task progress from reference videos (a dense reward for robot learning).

Everything here works on per-video embedding arrays [T, D] (e.g. from `tcc.extract_embeddings`)
and needs no model; the `python -m tcc.apps.<name>` command lines add checkpoint loading on top.
"""

from tcc.apps.alignment import (
    Alignment,
    align,
    align_many,
    alignment_from_distances,
    alignment_to_dict,
    save_alignment_csv,
    save_alignment_json,
)
from tcc.apps.anomaly_detection import anomaly_scores, detect, fit_threshold, flagged_segments
from tcc.apps.dtw import accumulated_cost, dtw, sakoe_chiba_mask
from tcc.apps.figures import (
    plot_anomaly,
    plot_audio_spectrogram,
    plot_label_transfer,
    plot_progress,
    plot_retrieval_grid,
    plot_similarity_matrix,
)
from tcc.apps.label_transfer import transfer_labels, transfer_signal
from tcc.apps.playback import playback_mappings, write_playback
from tcc.apps.retrieval import nearest_frames
from tcc.apps.sound_transfer import mux_audio, transfer_audio, write_wav
from tcc.apps.task_progress import TaskProgress, task_progress
from tcc.evaluation.distances import pairwise_distances

__all__ = [
    "Alignment",
    "TaskProgress",
    "accumulated_cost",
    "align",
    "align_many",
    "alignment_from_distances",
    "alignment_to_dict",
    "anomaly_scores",
    "detect",
    "dtw",
    "fit_threshold",
    "flagged_segments",
    "mux_audio",
    "nearest_frames",
    "pairwise_distances",
    "playback_mappings",
    "plot_anomaly",
    "plot_audio_spectrogram",
    "plot_label_transfer",
    "plot_progress",
    "plot_retrieval_grid",
    "plot_similarity_matrix",
    "sakoe_chiba_mask",
    "task_progress",
    "save_alignment_csv",
    "save_alignment_json",
    "transfer_audio",
    "transfer_labels",
    "transfer_signal",
    "write_playback",
    "write_wav",
]
