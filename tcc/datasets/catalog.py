"""Known datasets: Pouring and the 13 Penn Action classes used by TCC.

Phase counts and train / val sizes follow the original TCC code (REFERENCE.md §Data); key events
are the paper's Table 2 (each action also has a Start and an End event). Phase names are the
paper's Figure 4 names where it gives them (Pouring, Baseball Pitch) and otherwise are derived
from the key events that bound each phase ("start -> bar fully down", ...).

Importers: `python -m tcc.datasets.penn_action` (Penn Action's original layout) and
`python -m tcc.datasets.convert` (own videos); TFDS builders are in
`tcc.datasets.sources.tfds_builders`.
"""

from __future__ import annotations

import dataclasses
import difflib

from tcc import errors


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Facts about one known dataset.

    Attributes:
      name: dataset name used in configs (`datasets=[...]`) and as the records folder.
      num_phases: number of phases (= key events + 1).
      train_size: number of train videos.
      val_size: number of val videos.
      key_events: descriptive names of the key events between phases, in order.
      source: 'pouring' or 'penn_action'.
      penn_action_name: the `action` string in Penn Action's label files, for its classes.
      explicit_phase_names: phase names given by the paper, if any.
    """

    name: str
    num_phases: int
    train_size: int
    val_size: int
    key_events: tuple[str, ...]
    source: str
    penn_action_name: str | None = None
    explicit_phase_names: tuple[str, ...] | None = None

    @property
    def phase_names(self) -> tuple[str, ...]:
        """One name per phase id (explicit, or 'start -> e1', 'e1 -> e2', ..., 'en -> end')."""
        if self.explicit_phase_names:
            return self.explicit_phase_names
        bounds = ("start", *self.key_events, "end")
        return tuple(f"{a} -> {b}" for a, b in zip(bounds[:-1], bounds[1:], strict=True))


def _penn(name, mat_name, phases, train, val, events) -> DatasetInfo:
    return DatasetInfo(name, phases, train, val, tuple(events), "penn_action", mat_name)


DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in (
        DatasetInfo(
            "pouring",
            5,
            70,
            14,
            (
                "hand touches bottle",
                "liquid starts exiting",
                "pouring complete",
                "bottle back on table",
            ),
            "pouring",
            explicit_phase_names=(
                "hand reaching",
                "lifting bottle",
                "pouring liquid",
                "placing bottle",
                "hand receding",
            ),
        ),
        dataclasses.replace(
            _penn(
                "baseball_pitch",
                "baseball_pitch",
                4,
                103,
                63,
                ["knee fully up", "arm fully stretched out", "ball release"],
            ),
            explicit_phase_names=("winding up", "taking stride", "throwing", "following through"),
        ),
        _penn(
            "baseball_swing",
            "baseball_swing",
            3,
            113,
            57,
            ["bat swung back fully", "bat hits ball"],
        ),
        _penn("bench_press", "bench_press", 2, 113, 57, ["bar fully down"]),
        _penn("bowling", "bowl", 3, 134, 84, ["ball swung fully back", "ball release"]),
        _penn(
            "clean_and_jerk",
            "clean_and_jerk",
            6,
            40,
            42,
            ["bar at hip", "fully squatting", "standing", "begin thrusting", "beginning balance"],
        ),
        _penn("golf_swing", "golf_swing", 3, 87, 77, ["stick swung fully back", "stick hits ball"]),
        _penn(
            "jumping_jacks",
            "jumping_jacks",
            4,
            56,
            56,
            ["hands at shoulder (going up)", "hands above head", "hands at shoulders (going down)"],
        ),
        _penn("pullups", "pullup", 2, 98, 100, ["chin above bar"]),
        _penn("pushups", "pushup", 2, 102, 105, ["head at floor"]),
        _penn("situp", "situp", 2, 50, 50, ["abs fully crunched"]),
        _penn(
            "squats",
            "squat",
            4,
            114,
            115,
            ["hips at knees (going down)", "hips at floor", "hips at knee (going up)"],
        ),
        _penn(
            "tennis_forehand",
            "tennis_forehand",
            3,
            79,
            74,
            ["racket swung fully back", "racket touches ball"],
        ),
        _penn(
            "tennis_serve",
            "tennis_serve",
            4,
            115,
            68,
            ["ball released from hand", "racket swung fully back", "ball touches racket"],
        ),
    )
}

PENN_ACTION_CLASSES: tuple[str, ...] = tuple(
    name for name, d in DATASETS.items() if d.source == "penn_action"
)


def _unknown(kind: str, name: str, valid: list[str]) -> KeyError:
    close = difflib.get_close_matches(name, valid, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return errors.UnknownNameError(
        f"unknown {kind} {name!r}.{hint} Valid names: {', '.join(valid)}."
    )


def get_dataset_info(name: str) -> DatasetInfo:
    """Returns the catalog entry of a dataset.

    Raises:
      KeyError: naming the closest and all valid names if `name` is unknown.
    """
    if name not in DATASETS:
        raise _unknown("dataset", name, list(DATASETS))
    return DATASETS[name]


def num_phases(name: str) -> int:
    """Number of phases of a known dataset (e.g. 5 for 'pouring')."""
    return get_dataset_info(name).num_phases


def penn_action_class(action: str) -> str | None:
    """Catalog name of a Penn Action `action` string ('squat' -> 'squats').

    Catalog names are accepted too. Returns None for the two Penn Action classes TCC does not use
    (jump_rope, strum_guitar) and any other unknown action.
    """
    for name in PENN_ACTION_CLASSES:
        if action in (name, DATASETS[name].penn_action_name):
            return name
    return None


def check_penn_action_classes(names: list[str]) -> list[str]:
    """Validates a list of Penn Action class names (catalog or Penn Action spelling).

    Returns:
      the catalog names.

    Raises:
      KeyError: naming the valid classes if one is unknown.
    """
    out = []
    for name in names:
        cls = penn_action_class(name)
        if cls is None:
            raise _unknown("Penn Action class", name, list(PENN_ACTION_CLASSES))
        out.append(cls)
    return out
