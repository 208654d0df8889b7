"""Tests for tcc.datasets.catalog: known datasets, phase counts, sizes, names."""

import pytest

from tcc.datasets import catalog

# REFERENCE.md §Data, typed in independently: name -> (phases, train, val).
EXPECTED = {
    "pouring": (5, 70, 14),
    "baseball_pitch": (4, 103, 63),
    "baseball_swing": (3, 113, 57),
    "bench_press": (2, 113, 57),
    "bowling": (3, 134, 84),
    "clean_and_jerk": (6, 40, 42),
    "golf_swing": (3, 87, 77),
    "jumping_jacks": (4, 56, 56),
    "pullups": (2, 98, 100),
    "pushups": (2, 102, 105),
    "situp": (2, 50, 50),
    "squats": (4, 114, 115),
    "tennis_forehand": (3, 79, 74),
    "tennis_serve": (4, 115, 68),
}


def test_catalog_holds_pouring_and_13_penn_action_classes_with_reference_numbers():
    assert set(catalog.DATASETS) == set(EXPECTED)
    assert len(catalog.PENN_ACTION_CLASSES) == 13 and "pouring" not in catalog.PENN_ACTION_CLASSES
    for name, (phases, train, val) in EXPECTED.items():
        info = catalog.get_dataset_info(name)
        assert (info.num_phases, info.train_size, info.val_size) == (phases, train, val), name
        assert catalog.num_phases(name) == phases


def test_key_events_and_phase_names_agree_with_the_phase_count():
    for name, info in catalog.DATASETS.items():
        assert len(info.key_events) == info.num_phases - 1, name
        assert len(info.phase_names) == info.num_phases, name


def test_phase_names_are_explicit_where_the_paper_gives_them_and_derived_otherwise():
    assert catalog.get_dataset_info("pouring").phase_names[0] == "hand reaching"
    assert catalog.get_dataset_info("bench_press").phase_names == (
        "start -> bar fully down",
        "bar fully down -> end",
    )


def test_unknown_dataset_error_lists_close_and_valid_names():
    with pytest.raises(KeyError, match="unknown dataset 'pourng'. Did you mean pouring"):
        catalog.get_dataset_info("pourng")
    with pytest.raises(KeyError, match="Valid names: pouring, baseball_pitch"):
        catalog.num_phases("nothing_like_it")


def test_penn_action_spellings_map_to_catalog_names():
    assert catalog.penn_action_class("squat") == "squats"
    assert catalog.penn_action_class("bowl") == "bowling"
    assert catalog.penn_action_class("squats") == "squats"
    assert catalog.penn_action_class("jump_rope") is None
    assert catalog.check_penn_action_classes(["pushup", "situp"]) == ["pushups", "situp"]
    with pytest.raises(KeyError, match="unknown Penn Action class 'strum_guitar'"):
        catalog.check_penn_action_classes(["strum_guitar"])
