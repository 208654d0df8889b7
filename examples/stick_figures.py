"""Penn Action joints drawn as stick-figure videos: real motion, trained from pixels.

Checks that what the pixel presets learn carries over from the embedded synthetic scenes to real
human motion. Every pose sequence of a joints records folder (`examples/penn_joints.py`) becomes a
video of its stick figure (`tcc.apps.skeleton`), with a per-video appearance drawn at random:
background colour, figure tint and size in the frame. Phase labels, splits and names are kept.

  python examples/penn_joints.py --input_dir=../shared/data/penn_action_joints \
      --output_dir=data/penn_joints --derived_events
  python examples/stick_figures.py --records=data/penn_joints/records \
      --output_dir=data/penn_pixels
  python -m tcc.train --config.data.path=data/penn_pixels --config.datasets=[squats] ...

docs/poses.md ("From pixels") reports what the default pixel config reaches on them.
"""

from __future__ import annotations

import os

import numpy as np
from absl import app, flags, logging

from tcc.apps import skeleton
from tcc.datasets import metadata, pose, records


def draw(features: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Stick figures of one Penn Action pose sequence, with a random appearance.

    Args:
      features: float [T, 13 * 3] stored joints (x, y, visibility).
      rng: draws the background colour, the figure's tint and its margin in the frame.
      size: S.

    Returns:
      uint8 [T, S, S, 3].
    """
    points = skeleton.keypoints_from_features(features, 13, 2, visibility=True)
    margin = float(rng.uniform(0.04, 0.25))
    frames = skeleton.render_skeletons(
        points, pose.PENN_ACTION_BONES, pose.PENN_ACTION_FLIP_PAIRS, size, margin=margin
    ).astype(np.float32)
    background = (frames == np.asarray(skeleton.BACKGROUND, np.float32)).all(-1)
    frames = np.where(
        background[..., None], rng.uniform(0, 120, 3), frames * rng.uniform(0.6, 1, 3)
    )
    return np.clip(frames, 0, 255).astype(np.uint8)


def main(argv: list[str]) -> None:
    del argv
    args = flags.FLAGS
    rng = np.random.default_rng(args.seed)
    for action in args.actions:
        max_label = -1
        for split in ("train", "val"):
            videos = list(records.read_split(args.records, action, split, kind="features"))
            examples = []
            for v in videos:
                labels = v["frame_labels"] if (v["frame_labels"] >= 0).any() else None
                max_label = max(max_label, int(v["frame_labels"].max(initial=-1)))
                examples.append(
                    records.VideoExample(v["name"], draw(v["features"], rng, args.size), labels)
                )
            records.write_split(examples, args.output_dir, action, split)
            logging.info("%s/%s: %d videos drawn", action, split, len(examples))
        metadata.write(os.path.join(args.output_dir, action), metadata.from_labels(max_label, None))
    print(f"wrote {', '.join(args.actions)} to {args.output_dir}")


if __name__ == "__main__":
    # Flags are defined here, not at import, so that importing this module next to an entry
    # point does not define a second --output_dir/--seed (absl refuses duplicates).
    flags.DEFINE_string("records", None, "Pose records root (examples/penn_joints.py).")
    flags.DEFINE_string("output_dir", None, "Where the pixel records go.")
    flags.DEFINE_list("actions", ["squats", "pushups", "pullups"], "Datasets to draw.")
    flags.DEFINE_integer("size", 64, "Side of the drawn frames in pixels.")
    flags.DEFINE_integer("seed", 0, "Seed of the per-video appearance.")
    flags.mark_flags_as_required(["records", "output_dir"])
    app.run(main)
