r"""TensorBoard embedding projector for per-frame embeddings (one point per frame).

`write_projector(out_dir, splits)` writes, for each `EmbeddedSplit`:
  * the embeddings [sum_i T_i, D] as variable `<dataset>_<split>` of a TensorFlow checkpoint
    (`embeddings.ckpt-1*` + `checkpoint`), found by TensorBoard's projector plugin;
  * `metadata_<dataset>_<split>.tsv`: one row per frame with columns video, frame, phase (the
    phase name when known, `none` for unlabelled frames);
  * optionally `sprite_<dataset>_<split>.png`: thumbnails of the frames;
and one `projector_config.pbtxt` listing them, plus an empty event file so that TensorBoard
treats the folder as a run. Open with `tensorboard --logdir=<out_dir or a parent>`, tab
"Projector"; colour by `phase`, search by `video`.

The config is written as text in the plugin's `ProjectorConfig` format, so the `tensorboard`
package is not needed to write it. `python -m tcc.evaluate --projector`,
`python -m tcc.extract_embeddings --projector` and the command line `python -m tcc.apps.projector`
write it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

import numpy as np

from tcc import atomic

CONFIG_NAME = "projector_config.pbtxt"
_SPRITE_MAX = 8192  # the projector's largest sprite side, in pixels


def write_projector(
    out_dir: str,
    splits,
    phase_names: Sequence[str] | None = None,
    thumbnails: Sequence[Sequence[np.ndarray]] | None = None,
    thumb_size: int = 32,
) -> str:
    """Writes a projector of per-frame embeddings for one or several splits.

    Args:
      out_dir: output folder (created; files written by an earlier call are replaced).
      splits: an `EmbeddedSplit` or a list of them (`tcc.evaluation.embed`): per video `embs`
        float [T_i, D], `labels` int [T_i], `frame_indices` int [T_i].
      phase_names: names of the phase ids for the metadata (default: ids as `phase <id>`).
      thumbnails: optional, per split, per video uint8 images [T_i, H, W, 3] of the embedded
        frames; written as a sprite so that the projector shows the frames.
      thumb_size: side of a sprite thumbnail in pixels (reduced if the sprite would exceed
        the projector's 8192 x 8192 limit).

    Returns:
      the path of `projector_config.pbtxt`.
    """
    import tensorflow as tf

    splits = list(splits) if isinstance(splits, (list, tuple)) else [splits]
    if not splits or any(not s.embs for s in splits):
        raise ValueError(
            "write_projector needs at least one split with at least one video. "
            f"Received: {len(splits)} split(s)"
        )
    _clear(out_dir)
    tags = _tags(splits)
    variables, entries = {}, []
    for k, (split, tag) in enumerate(zip(splits, tags, strict=True)):
        variables[tag] = tf.Variable(np.concatenate(split.embs).astype(np.float32), name=tag)
        _write_metadata(os.path.join(out_dir, f"metadata_{tag}.tsv"), split, phase_names)
        entry = [
            f'  tensor_name: "{tag}/.ATTRIBUTES/VARIABLE_VALUE"',
            f'  metadata_path: "metadata_{tag}.tsv"',
        ]
        if thumbnails is not None:
            side = _write_sprite(
                os.path.join(out_dir, f"sprite_{tag}.png"), thumbnails[k], thumb_size
            )
            entry.append(
                f'  sprite {{\n    image_path: "sprite_{tag}.png"\n'
                f"    single_image_dim: {side}\n    single_image_dim: {side}\n  }}"
            )
        entries.append("embeddings {\n" + "\n".join(entry) + "\n}\n")
    tf.train.Checkpoint(**variables).save(os.path.join(out_dir, "embeddings.ckpt"))
    config_path = atomic.write_text(os.path.join(out_dir, CONFIG_NAME), "".join(entries))
    writer = tf.summary.create_file_writer(out_dir)
    writer.flush()
    writer.close()
    return config_path


def _clear(out_dir: str) -> None:
    """Creates `out_dir`, removing files of an earlier projector (never other files)."""
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(out_dir):
        if name.startswith(
            ("embeddings.ckpt", "metadata_", "sprite_", "events.out.tfevents")
        ) or name in ("checkpoint", CONFIG_NAME):
            path = os.path.join(out_dir, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def _tags(splits) -> list[str]:
    """Unique tensor names `<dataset>_<split>` made of safe characters."""
    tags = []
    for s in splits:
        base = "".join(c if c.isalnum() or c in "_-" else "_" for c in f"{s.dataset}_{s.split}")
        tag, n = base, 2
        while tag in tags:
            tag, n = f"{base}_{n}", n + 1
        tags.append(tag)
    return tags


def _write_metadata(path: str, split, phase_names: Sequence[str] | None) -> None:
    """One header row, then one row per frame: video, frame index, phase."""
    rows = ["video\tframe\tphase"]
    for name, labels, frames in zip(split.names, split.labels, split.frame_indices, strict=True):
        clean = name.replace("\t", " ").replace("\n", " ")
        for lab, fi in zip(np.asarray(labels).tolist(), np.asarray(frames).tolist(), strict=True):
            rows.append(f"{clean}\t{fi}\t{_phase(lab, phase_names)}")
    atomic.write_text(path, "\n".join(rows) + "\n")


def _phase(label: int, phase_names: Sequence[str] | None) -> str:
    if label < 0:
        return "none"
    if phase_names and label < len(phase_names):
        return phase_names[label]
    return f"phase {label}"


def _write_sprite(path: str, videos: Sequence[np.ndarray], thumb_size: int) -> int:
    """Tiles every frame (row-major, in point order) into one square PNG; returns the tile side."""
    import tensorflow as tf
    from PIL import Image

    frames = np.concatenate([np.asarray(v) for v in videos])
    per_side = int(np.ceil(np.sqrt(len(frames))))
    side = max(1, min(thumb_size, _SPRITE_MAX // per_side))
    thumbs = tf.image.resize(frames, (side, side), antialias=True)
    thumbs = np.clip(np.round(thumbs.numpy()), 0, 255).astype(np.uint8)
    canvas = np.zeros((per_side * side, per_side * side, 3), np.uint8)
    for i, thumb in enumerate(thumbs):
        r, c = divmod(i, per_side)
        canvas[r * side : (r + 1) * side, c * side : (c + 1) * side] = thumb[..., :3]
    with atomic.path(path) as tmp:
        Image.fromarray(canvas).save(tmp)
    return side
