"""tcc.atomic: outputs appear complete under their final name, or not at all."""

from __future__ import annotations

import json
import os

import pytest

from tcc import atomic


def test_write_helpers_create_folders_and_leave_no_temporary(tmp_path):
    atomic.write_text(tmp_path / "a" / "x.txt", "hello")
    atomic.write_bytes(tmp_path / "a" / "y.bin", b"\x00\x01")
    atomic.write_json(tmp_path / "a" / "z.json", {"b": 1, "a": [2]})
    assert (tmp_path / "a" / "x.txt").read_text() == "hello"
    assert (tmp_path / "a" / "y.bin").read_bytes() == b"\x00\x01"
    assert json.loads((tmp_path / "a" / "z.json").read_text()) == {"a": [2], "b": 1}
    assert sorted(os.listdir(tmp_path / "a")) == ["x.txt", "y.bin", "z.json"]


def test_path_keeps_the_extension_and_an_error_keeps_the_old_file(tmp_path):
    final = tmp_path / "plot.png"
    final.write_text("old")
    with pytest.raises(RuntimeError), atomic.path(final) as tmp:
        assert tmp.endswith(".png") and os.path.dirname(tmp) == str(tmp_path)
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("killed")
    assert final.read_text() == "old"
    assert os.listdir(tmp_path) == ["plot.png"]


def test_directory_replaces_the_whole_folder_or_nothing(tmp_path):
    final = tmp_path / "data"
    final.mkdir()
    (final / "stale").write_text("s")
    with pytest.raises(ValueError), atomic.directory(final) as staging:
        (open(os.path.join(staging, "new"), "w")).close()
        raise ValueError
    assert os.listdir(final) == ["stale"]
    with atomic.directory(final) as staging:
        with open(os.path.join(staging, "new"), "w") as f:
            f.write("n")
    assert os.listdir(final) == ["new"]
    assert os.listdir(tmp_path) == ["data"]
