r"""Penn Action joints (CSV) -> per-sequence keypoint .npy files (own-videos layout) -> records.

  python examples/penn_joints.py --input_dir=/path/to/penn_action_joints \
      --output_dir=data/penn_joints [--actions=squats,pushups,pullups] \
      [--key_events=my_events.json | --derived_events]

reads `<input_dir>/{squat,pushup,pullup}_joints*.csv` (`Sequence_ID,Frame,<joint>_x,<joint>_y,...`
for Penn Action's 13 joints; columns are found by header name, empty cells are joints that were
not annotated) and writes, per action,

  <output_dir>/raw/<action>/{train,val}/<sequence_id>.npy   float32 [T, 13, 3]: x, y in pixels
                                                           and visibility (0 = not annotated;
                                                           x, y are NaN then)
  <output_dir>/raw/<action>/key_events.json               if events are given or derived
  <output_dir>/records/<action>/{train,val}-*.tfrecord    via tcc.datasets.convert

The layout per joint, (x, y, visibility), is the one of `python -m tcc.datasets.penn_action
--mode=joints`, so `configs/penn_action_joints.py` reads both. Every third sequence (in id order)
goes to val. The CSVs carry no phase labels. Give your own key
events (`{"<sequence_id>": [e1, e2, ...]}`, frames where the next phase begins; squats have 3,
push-ups and pull-ups 1), or `--derived_events` for a rough stand-in computed from the joints
themselves: squats - hips half-way down, hips lowest, hips half-way up again; push-ups - head
lowest; pull-ups - head highest. Derived events are a heuristic for trying the evaluation, not
ground truth. Then train and evaluate (docs/poses.md):

  python -m tcc.train --alsologtostderr --config=configs/penn_action_joints.py \
      --config.data.path=data/penn_joints/records --logdir=/tmp/tcc/penn_joints
"""

from __future__ import annotations

import csv
import glob
import json
import os
from collections import defaultdict

import numpy as np
from absl import app, flags

from tcc.datasets import convert, readback

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CSV_STEMS = {"squats": "squat", "pushups": "pushup", "pullups": "pullup"}
# The CSV's joint names, in Penn Action's joint order (tcc.datasets.pose.PENN_ACTION_JOINTS).
CSV_JOINTS = ("Head", "L_Sho", "R_Sho", "L_Elb", "R_Elb", "L_Wri", "R_Wri", "L_Hip", "R_Hip",
              "L_Kne", "R_Kne", "L_Ank", "R_Ank")  # fmt: skip


def read_joint_csv(path: str) -> dict[str, np.ndarray]:
    """Sequences of one CSV: id -> float32 [T, 13, 2] keypoints x, y (NaN = not annotated)."""
    rows: dict[str, list[tuple[int, list[float]]]] = defaultdict(list)
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = [(f"{j}_x", f"{j}_y") for j in CSV_JOINTS]
        missing = [c for pair in columns for c in pair if c not in reader.fieldnames]
        if missing:
            raise SystemExit(f"error: {path}: no column {missing[0]!r}")
        for row in reader:
            values = [float(row[c]) if row[c].strip() else np.nan for pair in columns for c in pair]
            rows[row["Sequence_ID"]].append((int(row["Frame"]), values))
    sequences = {}
    for seq_id, frames in rows.items():
        frames.sort()
        if [n for n, _ in frames] != list(range(1, len(frames) + 1)):
            raise SystemExit(f"error: {path}: sequence {seq_id} does not number frames 1..N")
        sequences[seq_id] = np.asarray([v for _, v in frames], np.float32).reshape(-1, 13, 2)
    return sequences


def _smooth_height(keypoints: np.ndarray, joints: list[int]) -> np.ndarray | None:
    """Mean image y [T] of some joints (y grows downwards), filled and smoothed; None if absent."""
    heights = keypoints[:, joints, 1]
    count = np.isfinite(heights).sum(axis=1)
    if not count.any():
        return None
    y = np.nansum(heights, axis=1) / np.maximum(count, 1)
    t, ok = np.arange(len(y)), count > 0
    y = np.interp(t, t[ok], y[ok])
    return np.convolve(np.pad(y, 2, mode="edge"), np.ones(5) / 5, mode="valid")


def derived_events(action: str, keypoints: np.ndarray) -> list[int] | None:
    """Rough key events from the joints (module doc), or None when they cannot be found."""
    if action == "squats":
        hips = _smooth_height(keypoints, [7, 8])
        if hips is None:
            return None
        depth = (hips - hips.min()) / max(hips.max() - hips.min(), 1e-6)  # 1 = lowest
        bottom = int(np.argmax(depth))
        down = np.flatnonzero(depth[:bottom] >= 0.5)
        up = np.flatnonzero(depth[bottom + 1 :] <= 0.5)
        if not len(down) or not len(up):
            return None
        events = [int(down[0]), bottom, bottom + 1 + int(up[0])]
    else:
        head = _smooth_height(keypoints, [0])
        if head is None:
            return None
        events = [int(np.argmax(head) if action == "pushups" else np.argmin(head))]
    ok = all(0 < e < len(keypoints) for e in events) and events == sorted(set(events))
    return events if ok else None


def write_action(action: str, sequences: dict[str, np.ndarray], raw_dir: str,
                 events: dict[str, list[int]]) -> None:  # fmt: skip
    """Writes <raw_dir>/{train,val}/<id>.npy and key_events.json for one action."""
    for i, seq_id in enumerate(sorted(sequences, key=int)):
        split = "val" if i % 3 == 2 else "train"
        os.makedirs(os.path.join(raw_dir, split), exist_ok=True)
        keypoints = sequences[seq_id]
        visible = np.isfinite(keypoints).all(axis=-1, keepdims=True).astype(np.float32)
        joints = np.concatenate([keypoints, visible], axis=-1)  # [T, 13, 3]
        np.save(os.path.join(raw_dir, split, f"{seq_id}.npy"), joints)
    if events:
        with open(os.path.join(raw_dir, "key_events.json"), "w", encoding="utf-8") as f:
            json.dump(events, f, indent=0)


def main(argv: list[str]) -> None:
    args = flags.FLAGS
    del argv
    given = {}
    if args.key_events:
        with open(args.key_events, encoding="utf-8") as f:
            given = json.load(f)
    for action in args.actions:
        if action not in CSV_STEMS:
            raise SystemExit(f"error: unknown action {action!r}; use {', '.join(CSV_STEMS)}")
        paths = sorted(glob.glob(os.path.join(args.input_dir, f"{CSV_STEMS[action]}_joints*.csv")))
        if not paths:
            raise SystemExit(f"error: no {CSV_STEMS[action]}_joints*.csv in {args.input_dir}")
        sequences = read_joint_csv(paths[0])
        events = {k: v for k, v in given.items() if k in sequences}
        if args.derived_events:
            found = {k: derived_events(action, v) for k, v in sequences.items()}
            events = {k: v for k, v in found.items() if v is not None}
            print(f"{action}: derived key events for {len(events)} of {len(sequences)} sequences")
        raw_dir = os.path.join(args.output_dir, "raw", action)
        write_action(action, sequences, raw_dir, events)
        records_dir = os.path.join(args.output_dir, "records")
        summary = convert.convert(raw_dir, records_dir, action, overwrite=True)
        print(readback.format_summary({action: summary}))
    print(
        "\nnext: python -m tcc.train --alsologtostderr --config=configs/penn_action_joints.py "
        f"--config.data.path={os.path.join(args.output_dir, 'records')} "
        f"--config.datasets=[{','.join(args.actions)}] --logdir=/tmp/tcc/penn_joints"
    )


if __name__ == "__main__":
    # Flags are defined here, not at import, so that importing this module next to an entry
    # point does not define a second --output_dir (absl refuses duplicates).
    flags.DEFINE_string("input_dir", None, "Folder of the Penn Action joint CSVs.")
    flags.DEFINE_string(
        "output_dir",
        os.path.join(_REPO_ROOT, "data", "penn_joints"),
        "Writes raw/ and records/ here (default: data/penn_joints under the repository root).",
    )
    flags.DEFINE_list("actions", ["squats", "pushups", "pullups"], "Actions to convert.")
    flags.DEFINE_string("key_events", None, 'Your key events, {"<sequence_id>": [e1, ...]}.')
    flags.DEFINE_bool("derived_events", False, "Derive rough key events from the joints.")
    flags.mark_flag_as_required("input_dir")
    app.run(main)
