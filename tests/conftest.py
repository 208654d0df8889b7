"""Shared pytest setup: quiet TensorFlow, no GPU, and small shared fixtures and fake data writers.

Fake data layouts used by several test files live here, once: `write_tiny_records` (records),
`write_penn_action` (the Penn Action download: labels/NNNN.mat, frames/NNNN/NNNNNN.jpg) and
`write_annotations` (labels/<video>.txt, key_events.json, phases.json of an own-videos folder).
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# Seconds a test waits for a subprocess (TensorFlow start-up included). Generous on purpose: on a
# loaded machine (load average 20 on 2 cores) importing TensorFlow alone takes minutes, and a
# tight timeout made tests fail by chance; a hung subprocess still fails the test.
SUBPROCESS_TIMEOUT = 1800


def write_tiny_records(
    root: str,
    name: str = "tiny",
    num_train: int = 6,
    num_val: int = 3,
    size: int = 32,
    seed: int = 0,
    labelled: bool = True,
) -> str:
    """Writes a tiny learnable 3-phase dataset: a bar grows from left to right over time.

    Frame t of a T-frame video fills the left (t+1)/T of the image, on a per-video random
    background colour with noise; the phase is floor(3 t / T).
    """
    from tcc.datasets import records

    rng = np.random.default_rng(seed)
    for split, count in (("train", num_train), ("val", num_val)):
        videos = []
        for i in range(count):
            length = int(rng.integers(16, 30))
            background = rng.integers(0, 120, size=3)
            frames = np.empty((length, size, size, 3), np.uint8)
            for t in range(length):
                frame = np.broadcast_to(background, (size, size, 3)).copy()
                frame[:, : int(size * (t + 1) / length)] = 230
                noise = rng.integers(0, 20, frame.shape)
                frames[t] = np.clip(frame + noise, 0, 255)
            labels = (np.arange(length) * 3) // length if labelled else None
            videos.append(records.VideoExample(f"{split}_{i}", frames=frames, frame_labels=labels))
        records.write_split(videos, root, name, split)
    return root


def write_penn_action(
    root,
    videos: dict[str, tuple[str, int, int]],
    joints: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
    frames: bool = True,
    frame_step: int = 30,
) -> str:
    """Writes the layout of the Penn Action download under `root` (a pathlib.Path).

    Args:
      videos: {video id 'NNNN': (action string, train flag 1 / -1, number of frames)}.
      joints: {video id: (x, y, visibility)}, each [n, 13]; default zeros and all visible.
      frames: write frames/NNNN/NNNNNN.jpg (12 x 16 px, value `frame_step * i`); else empty
        frames/ (the joints mode reads no frames).
    """
    import imageio.v2 as imageio
    import scipy.io

    os.makedirs(root / "labels", exist_ok=True)
    os.makedirs(root / "frames", exist_ok=True)
    for vid, (action, train, n) in videos.items():
        if frames:
            os.makedirs(root / "frames" / vid)
            for i in range(n):
                frame = np.full((12, 16, 3), frame_step * i, np.uint8)
                imageio.imwrite(root / "frames" / vid / f"{i + 1:06d}.jpg", frame)
        x, y, vis = (joints or {}).get(
            vid, (np.zeros((n, 13)), np.zeros((n, 13)), np.ones((n, 13), np.uint8))
        )
        scipy.io.savemat(
            root / "labels" / f"{vid}.mat",
            {"action": action, "nframes": n, "train": train, "x": x, "y": y, "visibility": vis},
        )
    return str(root)


def write_annotations(
    root,
    labels: dict[str, list[int]] | None = None,
    key_events: dict[str, list[int]] | None = None,
    phases: list[str] | None = None,
) -> str:
    """Writes the annotations of an own-videos folder `root` (a pathlib.Path), each if given:
    labels/<video>.txt (one phase id per line), key_events.json and phases.json."""
    if labels:
        os.makedirs(root / "labels", exist_ok=True)
        for name, ids in labels.items():
            (root / "labels" / f"{name}.txt").write_text("\n".join(map(str, ids)) + "\n")
    if key_events:
        (root / "key_events.json").write_text(json.dumps(key_events))
    if phases:
        (root / "phases.json").write_text(json.dumps(phases))
    return str(root)


def tiny_config(root: str, logdir: str, **overrides):
    """A config for fast CPU tests on `write_tiny_records` data."""
    from tcc import config as config_lib

    cfg = config_lib.get_default_config()
    cfg.logdir = logdir
    cfg.data.path = root
    cfg.datasets = ["tiny"]
    cfg.data.image_size = 32
    cfg.data.num_parallel_calls = 1
    cfg.data.shuffle_queue_size = 8
    # The machinery tests (resume, divergence, evaluation beside training) were written for, and
    # are sized on, trajectories of a fixed context stride; on these 16-30-frame videos the loss of
    # this tiny model spikes at either setting, at other steps. The share-of-length context is
    # tested in tests/datasets and trained end to end in tests/training/test_loop.py.
    cfg.data.frame_stride_fraction = 0.0
    cfg.train.batch_size = 2
    cfg.train.num_frames = 6
    cfg.train.max_iters = 4
    cfg.train.visualize_interval = 0
    cfg.model.embedding_size = 8
    cfg.model.conv_embedder.conv_layers = [[16, 3, True]]
    cfg.model.conv_embedder.fc_layers = [16]
    cfg.model.conv_embedder.capacity_scalar = 1.0
    cfg.eval.num_frames = 16
    cfg.eval.few_shot_num_episodes = 3
    cfg.eval.few_shot_num_labeled = [1, 2]
    cfg.eval.interval = 0  # in-training validation off (tests/training/test_validation.py)
    cfg.logging.report_interval = 2
    cfg.checkpoint.save_interval = 2
    return config_lib.apply_overrides(cfg, [f"{k}={v}" for k, v in overrides.items()])


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> str:
    """A session-wide tiny labelled dataset named 'tiny' (6 train / 3 val videos, 32 px)."""
    return write_tiny_records(str(tmp_path_factory.mktemp("tiny_records")))
