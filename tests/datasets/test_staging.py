"""Staging folders of dataset writes: owned, removed once stale, committed whole."""

import os
import subprocess
import sys

from tcc.datasets import staging


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_live_owners_folder_stays_and_a_dead_owners_goes(tmp_path, capsys):
    out = str(tmp_path)
    mine = staging.start(out)
    with open(os.path.join(mine, staging.OWNER_FILE)) as f:
        assert int(f.read()) == os.getpid()
    dead = os.path.join(out, staging.STAGING_PREFIX + "killed")
    os.makedirs(dead)
    with open(os.path.join(dead, staging.OWNER_FILE), "w") as f:
        f.write(str(_dead_pid()))
    second = staging.start(out)  # cleans up first
    assert os.path.isdir(mine) and os.path.isdir(second) and not os.path.exists(dead)
    assert "removed leftovers of an interrupted conversion" in capsys.readouterr().out


def test_a_folder_without_owner_goes_only_when_old(tmp_path):
    out = str(tmp_path)
    folder = os.path.join(out, staging.STAGING_PREFIX + "no-owner")
    os.makedirs(folder)
    assert staging.remove_stale(out, min_age=60.0) == []
    os.utime(folder, (0, 0))  # written long ago
    assert staging.remove_stale(out, min_age=60.0) == [folder]


def test_commit_replaces_records_whole_and_keeps_a_users_other_files(tmp_path):
    def staged(name: str) -> str:
        path = tmp_path / "stage" / name
        path.mkdir(parents=True)
        (path / "train-00000-of-00001.tfrecord").write_bytes(b"new")
        return str(path)

    records_dir = tmp_path / "with_records"
    records_dir.mkdir()
    (records_dir / "val-00000-of-00001.tfrecord").write_bytes(b"old")
    staging.commit(staged("a"), str(records_dir))
    assert sorted(os.listdir(records_dir)) == ["train-00000-of-00001.tfrecord"]

    users_dir = tmp_path / "users"
    users_dir.mkdir()
    (users_dir / "notes.txt").write_text("mine")
    staging.commit(staged("b"), str(users_dir))
    assert sorted(os.listdir(users_dir)) == ["notes.txt", "train-00000-of-00001.tfrecord"]
