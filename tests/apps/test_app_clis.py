"""End-to-end tests of the app command lines (align, transfer, retrieve, anomaly) on tiny data.

One module-scoped fixture writes tiny labelled records, an untrained small model checkpoint and
its config; the apps run in-process through their `run(argv)` entry points, and one through
`python -m` in a subprocess.
"""

import csv
import json
import os
import subprocess
import sys

import imageio.v2 as iio2
import imageio.v3 as iio
import numpy as np
import pytest
from conftest import SUBPROCESS_TIMEOUT
from scipy.io import wavfile

FPS = 10.0
PHASES = ["start", "middle", "end"]


def _toy_video(rng, length):
    """A bright square moving left to right at a random non-linear speed; 3 phases by progress."""
    progress = np.sort(rng.uniform(0, 1, length))
    progress = (progress - progress[0]) / (progress[-1] - progress[0])
    frames = np.full((length, 32, 32, 3), 40, np.uint8)
    frames[..., 2] = rng.integers(0, 120)
    for t, x in enumerate(np.round(progress * 24).astype(int)):
        frames[t, 12:20, x : x + 8] = 230
    return frames, np.minimum((progress * 3).astype(int), 2)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """Records (toy/train: 4 videos, toy/val: 3 videos), a checkpoint, a frame folder, an mp4."""
    import keras

    from tcc import config as config_lib
    from tcc.algos import build_algorithm
    from tcc.apps.sound_transfer import mux_audio, write_wav
    from tcc.datasets import records
    from tcc.training.checkpoints import Checkpointer

    root = tmp_path_factory.mktemp("apps_cli")
    rng = np.random.default_rng(0)
    lengths = {"train": [12, 16, 14, 18], "val": [15, 12, 20]}
    videos = {}
    for split, lens in lengths.items():
        examples = []
        for i, n in enumerate(lens):
            frames, labels = _toy_video(rng, n)
            videos[f"{split}_{i}"] = frames
            examples.append(
                records.VideoExample(f"{split}_{i}", frames, labels, fps=FPS, phase_names=PHASES)
            )
        records.write_split(examples, str(root / "data"), "toy", split)
    cfg = config_lib.get_default_config()
    cfg.data.path, cfg.datasets, cfg.data.image_size = str(root / "data"), ["toy"], 32
    cfg.logdir, cfg.train.num_frames = str(root / "run"), 4
    cfg.model.embedding_size = 8
    cfg.model.conv_embedder.conv_layers = [[16, 3, True]]
    cfg.model.conv_embedder.fc_layers = [16]
    model = build_algorithm(cfg)
    model.build_with_dummy_batch(cfg.train.num_frames)
    optimizer = keras.optimizers.Adam()
    optimizer.build(model.trainable_variables)
    Checkpointer(cfg.logdir, model, optimizer).save(0)
    config_lib.save(cfg, cfg.logdir)
    keras.backend.clear_session()  # the apps build the model again with fresh layer names
    folder = root / "clip_folder"
    folder.mkdir()
    frames, _ = _toy_video(rng, 13)
    for t, frame in enumerate(frames):
        iio.imwrite(folder / f"{t + 1}.png", frame)
    silent = str(root / "silent.mp4")
    iio2.mimwrite(silent, videos["train_1"], fps=FPS, macro_block_size=16)
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(int(16 / FPS * 8000)) / 8000)
    write_wav(str(root / "tone.wav"), tone, 8000)
    assert mux_audio(silent, str(root / "tone.wav"), str(root / "with_sound.mp4"))
    (root / "broken.mp4").write_bytes(b"not a video at all")
    from tcc.evaluation.embed import EmbeddedSplit
    from tcc.evaluation.embeddings_file import save_npz

    val_lens = lengths["val"]
    save_npz(
        str(root / "val_embs.npz"),
        EmbeddedSplit(
            "toy",
            "val",
            [f"val_{i}" for i in range(len(val_lens))],
            [rng.normal(size=(n, 4)).astype(np.float32) for n in val_lens],
            [np.zeros(n, np.int32) for n in val_lens],
            [np.arange(n, dtype=np.int32) for n in val_lens],
            val_lens,
        ),
    )
    return {
        "root": root,
        "logdir": cfg.logdir,
        "data": cfg.data.path,
        "folder": str(folder),
        "sound": str(root / "with_sound.mp4"),
        "broken": str(root / "broken.mp4"),
        "npz": str(root / "val_embs.npz"),
    }


def _run(module, argv):
    import importlib

    return importlib.import_module(f"tcc.apps.{module}").run([module, *argv])


def _error(capsys, module, argv):
    """Runs an app expected to fail; returns its stderr."""
    with pytest.raises(SystemExit) as exit_info:
        _run(module, argv)
    assert exit_info.value.code == 1
    return capsys.readouterr().err


def test_align_cli_as_subprocess_writes_mapping_csv_similarity_png_and_gif(run_dir, tmp_path):
    out = tmp_path / "align"
    cmd = [
        sys.executable,
        "-m",
        "tcc.apps.align",
        f"--logdir={run_dir['logdir']}",
        f"--query={run_dir['folder']}",
        "--references=val_0,records:toy/val:val_2",
        "--format=gif",
        f"--output_dir={out}",
    ]
    result = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"wrote {out}/clip_folder__val_0.json" in result.stdout
    record = json.loads((out / "clip_folder__val_2.json").read_text())
    assert record["query"] == "clip_folder" and record["reference"] == "val_2"
    assert record["method"] == "dtw" and len(record["mapping"]) == 13
    assert record["path"][0] == [0, 0] and record["path"][-1] == [12, 19]
    rows = list(csv.reader(open(out / "clip_folder__val_0.csv")))
    assert rows[0] == ["query_frame", "reference_frame", "distance"] and len(rows) == 14
    assert all(0 <= int(r[1]) < 15 for r in rows[1:])
    assert (out / "clip_folder__val_0_similarity.png").stat().st_size > 1000
    gif = iio.imread(out / "playback.gif", index=None)
    assert gif.shape[0] == 13 and gif.shape[2] > 3 * 128  # query + 2 references side by side


def test_align_with_embeddings_file_needs_no_model_and_uses_record_frames(run_dir, tmp_path):
    from tcc.evaluation.embed import EmbeddedSplit
    from tcc.evaluation.embeddings_file import save_npz

    rng = np.random.default_rng(1)
    lens = [15, 12, 20]
    split = EmbeddedSplit(
        "toy",
        "val",
        ["val_0", "val_1", "val_2"],
        [rng.normal(size=(n, 4)).astype(np.float32) for n in lens],
        [np.zeros(n, np.int32) for n in lens],
        [np.arange(n, dtype=np.int32) for n in lens],
        lens,
    )
    save_npz(str(tmp_path / "e.npz"), split)
    out = tmp_path / "out"
    _run(
        "align",
        [
            f"--embeddings={tmp_path / 'e.npz'}",
            f"--data_path={run_dir['data']}",
            "--dataset=toy",
            "--query=val_1",
            "--references=val_0,val_2",
            "--method=nn",
            "--format=mp4",
            f"--output_dir={out}",
        ],
    )
    record = json.loads((out / "val_1__val_0.json").read_text())
    expected = np.argmin(((split.embs[1][:, None] - split.embs[0][None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(record["mapping"], expected)
    with iio2.get_reader(out / "playback.mp4", format="FFMPEG") as reader:
        assert reader.count_frames() == 12


def test_transfer_cli_writes_labels_and_audio_with_query_duration(run_dir, tmp_path):
    out = tmp_path / "transfer"
    _run(
        "transfer",
        [
            f"--logdir={run_dir['logdir']}",
            "--query=val_2",
            "--references=records:toy/train",
            f"--audio_from={run_dir['sound']}",
            f"--output_dir={out}",
        ],
    )
    record = json.loads((out / "val_2_labels.json").read_text())
    assert record["references"] == ["train_0", "train_1", "train_2", "train_3"]
    assert len(record["labels"]) == 20 and set(record["labels"]) <= {0, 1, 2}
    assert record["phase_names"] == PHASES and 0.0 <= record["accuracy"] <= 1.0
    assert record["phases"][0] == PHASES[record["labels"][0]]
    assert len((out / "val_2_labels.csv").read_text().splitlines()) == 21
    sr, audio = wavfile.read(out / "val_2_audio.wav")
    assert sr == 8000 and len(audio) == int(20 / FPS * sr)
    assert np.abs(audio).max() > 1000  # the reference's tone, not silence
    assert (out / "val_2_with_audio.mp4").stat().st_size > 0
    for png in ("val_2_labels.png", "val_2_audio.png"):
        assert iio.imread(out / png).shape[1] >= 700


def test_retrieve_cli_returns_k_frames_from_other_videos_and_a_grid(run_dir, tmp_path, capsys):
    out = tmp_path / "retrieve"
    _run(
        "retrieve",
        [
            f"--logdir={run_dir['logdir']}",
            "--dataset=toy",
            "--split=val",
            "--query=val_0",
            "--time=0.3",
            "--k=5",
            "--per_video=3",
            f"--output_dir={out}",
        ],
    )
    record = json.loads((out / "retrieval.json").read_text())
    assert record["query"]["video"] == "val_0" and record["query"]["frame"] == 3
    assert len(record["results"]) == 5 and [r["rank"] for r in record["results"]] == [1, 2, 3, 4, 5]
    assert all(r["video"] != "val_0" for r in record["results"])
    assert max(map([r["video"] for r in record["results"]].count, ("val_1", "val_2"))) == 3
    distances = [r["distance"] for r in record["results"]]
    assert distances == sorted(distances)
    same = sum(r["label"] == record["query"]["label"] for r in record["results"])
    assert record["same_phase_fraction"] == same / 5
    assert f"same-phase precision@5: {same / 5:.2f}" in capsys.readouterr().out
    assert iio.imread(out / "retrieval.png").shape[1] > 500


def test_retrieve_cli_gives_one_result_per_video_by_default(run_dir, tmp_path):
    out = tmp_path / "retrieve"
    _run(
        "retrieve",
        [
            f"--embeddings={run_dir['npz']}",
            f"--data_path={run_dir['data']}",
            "--dataset=toy",
            "--query=val_1",
            "--frame=4",
            "--k=8",
            f"--output_dir={out}",
        ],
    )
    record = json.loads((out / "retrieval.json").read_text())
    assert [r["video"] for r in record["results"]] == ["val_0", "val_2"]  # 2 other videos
    assert record["results"][0]["distance"] <= record["results"][1]["distance"]


def test_anomaly_cli_writes_scores_threshold_and_curve(run_dir, tmp_path):
    out = tmp_path / "anomaly"
    _run(
        "anomaly",
        [
            f"--logdir={run_dir['logdir']}",
            "--video=val_1",
            "--dataset=toy",
            "--percentile=90",
            "--min_length=1",
            f"--output_dir={out}",
        ],
    )
    record = json.loads((out / "val_1_anomaly.json").read_text())
    scores = np.array(record["scores"])
    assert len(scores) == 12 and record["num_typical_videos"] == 4 and record["threshold"] > 0
    flagged = np.zeros(12, bool)
    for seg in record["segments"]:
        flagged[seg["start_frame"] : seg["end_frame"] + 1] = True
    np.testing.assert_array_equal(flagged, scores > record["threshold"])
    assert (out / "val_1_anomaly.png").stat().st_size > 1000


def test_unknown_video_name_is_one_error_line_with_close_names(run_dir, tmp_path, capsys):
    err = _error(
        capsys,
        "align",
        [
            f"--logdir={run_dir['logdir']}",
            "--query=val_9",
            "--references=val_0",
            f"--output_dir={tmp_path}",
        ],
    )
    assert err.startswith("error: unknown video 'val_9'") and "val_0" in err
    assert len(err.strip().splitlines()) == 1


def test_missing_logdir_and_missing_checkpoint_are_errors(run_dir, tmp_path, capsys):
    err = _error(
        capsys,
        "retrieve",
        [f"--logdir={tmp_path / 'nope'}", "--query=val_0", "--frame=0", f"--output_dir={tmp_path}"],
    )
    assert err.startswith("error: --logdir=") and "does not exist" in err
    empty = tmp_path / "run"
    empty.mkdir()
    (empty / "config.json").write_text(open(f"{run_dir['logdir']}/config.json").read())
    err = _error(
        capsys, "anomaly", [f"--logdir={empty}", "--video=val_0", f"--output_dir={tmp_path}"]
    )
    assert err.startswith("error: no checkpoint in")
    err = _error(
        capsys,
        "align",
        [
            f"--logdir={run_dir['logdir']}",
            f"--checkpoint={empty}/ckpt-7",
            "--query=val_0",
            "--references=val_1",
            f"--output_dir={tmp_path}",
        ],
    )
    assert err.startswith(f"error: checkpoint {empty}/ckpt-7 does not exist")


def test_unreadable_video_file_is_an_error_and_writes_nothing(run_dir, tmp_path, capsys):
    out = tmp_path / "out"
    err = _error(
        capsys,
        "transfer",
        [
            f"--logdir={run_dir['logdir']}",
            f"--query={run_dir['broken']}",
            "--references=val_0",
            f"--output_dir={out}",
        ],
    )
    assert err.startswith("error: ") and "broken.mp4" in err
    assert not out.exists()


def test_align_with_stride_maps_every_kth_frame_and_plays_one_step_per_embedded_frame(
    run_dir, tmp_path
):
    out = tmp_path / "align"
    _run(
        "align",
        [
            f"--logdir={run_dir['logdir']}",
            "--query=val_0",
            "--references=val_2",
            "--stride=2",
            "--method=nn",
            "--format=gif",
            f"--output_dir={out}",
        ],
    )
    record = json.loads((out / "val_0__val_2.json").read_text())
    assert record["query_frame_indices"] == list(range(0, 15, 2))
    assert set(record["reference_frame_indices"]) <= set(range(0, 20, 2))
    rows = list(csv.DictReader(open(out / "val_0__val_2.csv")))
    assert [int(r["query_frame"]) for r in rows] == list(range(0, 15, 2))
    assert [int(r["reference_frame"]) for r in rows] == record["reference_frame_indices"]
    assert iio.imread(out / "playback.gif", index=None).shape[0] == 8


def test_projector_cli_writes_one_point_per_frame_of_an_embeddings_file(run_dir, tmp_path):
    (path,) = _run(
        "projector",
        [f"--embeddings={run_dir['npz']}", "--dataset=toy", f"--output_dir={tmp_path / 'proj'}"],
    )
    assert path == str(tmp_path / "proj" / "projector_config.pbtxt")
    rows = open(tmp_path / "proj" / "metadata_toy_val.tsv").read().splitlines()
    assert rows[0] == "video\tframe\tphase" and len(rows) == 1 + 15 + 12 + 20


@pytest.mark.parametrize(
    "name", ["align", "transfer", "retrieve", "anomaly", "progress", "projector"]
)
def test_python_m_app_runs_without_runpy_warning(name):
    """`python -m tcc.apps.<name>` must not find its module already imported by the package."""
    result = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", f"tcc.apps.{name}", "--help"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "RuntimeWarning" not in result.stderr and "--output_dir" in result.stdout


def test_progress_console_entry_writes_csv_png_and_summary_per_video(
    run_dir, tmp_path, monkeypatch, capsys
):
    from tcc.apps import progress

    out = tmp_path / "progress"
    argv = [
        "tcc-progress",
        f"--logdir={run_dir['logdir']}",
        f"--video=val_0,records:toy/train:train_1,{run_dir['folder']}",
        f"--output_dir={out}",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    assert progress.main() is None  # a console script's return value becomes the exit status
    record = json.loads((out / "progress.json").read_text())
    assert record["method"] == "nn"
    assert record["references"] == ["train_0", "train_2", "train_3"]  # a scored video is left out
    by_name = {v["video"]: v for v in record["videos"]}
    assert list(by_name) == ["val_0", "train_1", "clip_folder"]
    rows = list(csv.DictReader(open(out / "val_0_progress.csv")))
    assert len(rows) == 15 and list(rows[0]) == ["frame", "time", "progress"]
    assert [int(r["frame"]) for r in rows] == list(range(15))
    assert float(rows[3]["time"]) == pytest.approx(0.3)  # the records' 10 fps
    np.testing.assert_allclose(
        [float(r["progress"]) for r in rows], by_name["val_0"]["progress"], atol=1e-6
    )
    folder_rows = list(csv.DictReader(open(out / "clip_folder_progress.csv")))
    assert len(folder_rows) == 13 and list(folder_rows[0]) == ["frame", "progress"]  # no fps
    for v in record["videos"]:
        assert all(0.0 <= p <= 1.0 for p in v["progress"])
        assert v["spearman_vs_frame"] is None or -1.0 <= v["spearman_vs_frame"] <= 1.0
        assert (out / f"{v['video']}_progress.png").stat().st_size > 1000
    assert (out / "progress.png").stat().st_size > 1000
    assert "val_0: progress" in capsys.readouterr().out
