"""The bad-input catalogue: every entry point turns user errors into one `error:` line.

Each case runs an entry point's main function in-process (the same function `python -m ...`
runs, through `tcc.errors.run_main`) on bad input made here, and checks: a non-zero exit status,
exactly one `error:` line on stderr that names the culprit (file, key, flag, video, ...), no
traceback (no exception other than `SystemExit` escapes), and nothing partial left behind. A few
cases run as subprocesses to check the real command line path (absl's flag parsing, TCC_DEBUG).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
from absl import flags
from conftest import write_tiny_records

ABSL_ENTRIES = ("tcc.train", "tcc.evaluate", "tcc.extract_embeddings", "tcc.experiments.__main__")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _unload(name: str) -> None:
    """Forgets an absl entry module and the flags it defined in the global FLAGS."""
    if name not in sys.modules:
        return
    for flag in list(flags.FLAGS.flags_by_module_dict().get(name, [])):  # a copy: delattr edits it
        if flag.name in flags.FLAGS:
            delattr(flags.FLAGS, flag.name)
    del sys.modules[name]


@pytest.fixture(scope="module", autouse=True)
def _restore_entry_modules():
    """The absl entry points define flags of the same names in the global FLAGS, so they are
    loaded one at a time here; afterwards the modules other tests import come back."""
    before = [n for n in ABSL_ENTRIES if n in sys.modules]
    yield
    for name in ABSL_ENTRIES:
        _unload(name)
    for name in before:
        importlib.import_module(name)


def _entry(name: str):
    for other in ABSL_ENTRIES:
        if other != name:
            _unload(other)
    return importlib.import_module(name)


@dataclasses.dataclass
class Outcome:
    code: int
    errors: list[str]
    stderr: str


def _call(fn, *args) -> int:
    try:
        fn(*args)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


def run_entry(capsys, name: str, argv: list[str]) -> Outcome:
    """Runs an entry point in-process as `python -m name *argv` would; returns what it did."""
    from tcc import cli, errors

    capsys.readouterr()
    if name.startswith("tcc.apps."):
        module = importlib.import_module(name)
        code = _call(module.run, [name, *argv])
    elif name in ("tcc.datasets.convert", "tcc.datasets.penn_action"):
        module = importlib.import_module(name)
        fv = flags.FlagValues()
        module.define_flags(fv)

        def main():
            cli.parse_flags(fv, [name, *argv])
            errors.run_main(module.run, fv)  # what the module's main does under app.run

        code = _call(main)
    else:
        module = _entry(name)
        flags.FLAGS.unparse_flags()
        module._OVERRIDES.clear()
        parse = cli.config_flags_parser(module._OVERRIDES)

        def main():
            errors.run_main(module.main, parse([name, *argv]))  # what app.run does

        code = _call(main)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    return Outcome(code, lines, err)


def assert_one_error(out: Outcome, *culprits: str, code: int = 1) -> str:
    """Exit status `code`, exactly one `error:` line, naming every culprit, no traceback."""
    assert out.code == code, out.stderr[-2000:]
    assert len(out.errors) == 1, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    for culprit in culprits:
        assert culprit in out.errors[0], (culprit, out.errors[0])
    return out.errors[0]


# ----------------------------------------------------------------------------- data made here


def _raw_example(name: str, num_frames: int, num_labels: int, size: int = 32) -> bytes:
    """A SequenceExample written by hand (records.serialize_example refuses bad ones)."""
    import tensorflow as tf

    from tcc.datasets import records

    jpeg = records.encode_jpeg(np.full((size, size, 3), 100, np.uint8))
    ex = tf.train.SequenceExample()
    ex.context.feature["name"].bytes_list.value.append(name.encode())
    ex.context.feature["len"].int64_list.value.append(num_frames)
    for _ in range(num_frames):
        ex.feature_lists.feature_list["video"].feature.add().bytes_list.value.append(jpeg)
    for i in range(num_labels):
        ex.feature_lists.feature_list["frame_labels"].feature.add().int64_list.value.append(i % 3)
    return ex.SerializeToString()


def _write_raw(path, examples: list[bytes]) -> None:
    import tensorflow as tf

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as w:
        for e in examples:
            w.write(e)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Good tiny records plus one bad variant per dataset name, and a run with a checkpoint."""
    import keras

    from tcc import config as config_lib
    from tcc.algos import build_algorithm
    from tcc.datasets import records
    from tcc.training.checkpoints import Checkpointer

    base = tmp_path_factory.mktemp("bad_inputs")
    root = write_tiny_records(str(base / "records"))
    train = os.path.join(root, "tiny", "train-00000-of-00001.tfrecord")
    val = os.path.join(root, "tiny", "val-00000-of-00001.tfrecord")
    blob = open(train, "rb").read()

    def variant(name: str, train_bytes: bytes) -> str:
        os.makedirs(os.path.join(root, name))
        path = os.path.join(root, name, "train-00000-of-00001.tfrecord")
        with open(path, "wb") as f:
            f.write(train_bytes)
        shutil.copy(val, os.path.join(root, name, "val-00000-of-00001.tfrecord"))
        return path

    variant("truncated", blob[: len(blob) // 2])
    variant("empty", b"")
    variant("garbage", np.random.default_rng(0).bytes(4000))
    mismatch = variant("mismatch", b"")
    _write_raw(mismatch, [_raw_example("v0", 20, 20), _raw_example("short_labels", 20, 7)])
    one_frame = variant("one_frame", b"")
    _write_raw(one_frame, [_raw_example("v0", 20, 20), _raw_example("single", 1, 1)])
    phase99 = variant("phase99", b"")
    rng = np.random.default_rng(1)
    videos = [
        records.VideoExample(f"v{i}", rng.integers(0, 255, (18, 32, 32, 3), np.uint8), labels)
        for i, labels in enumerate([np.arange(18) * 3 // 18, np.repeat([0, 99], 9)])
    ]
    os.remove(phase99)
    records.write_split(videos, root, "phase99", "train")
    poses = [
        records.VideoExample(f"p{i}", features=rng.normal(size=(20, 13 * 3)).astype(np.float32))
        for i in range(3)
    ]
    records.write_split(poses, root, "poses13", "train")
    records.write_split(poses, root, "poses13", "val")

    run = str(base / "run")
    overrides = [a[len("--config.") :] for a in _train_args(root, run) if a.startswith("--config.")]
    cfg = config_lib.apply_overrides(config_lib.get_default_config(), overrides)
    cfg.logdir = run
    model = build_algorithm(cfg)
    model.build_with_dummy_batch(cfg.train.num_frames)
    optimizer = keras.optimizers.Adam()
    optimizer.build(model.trainable_variables)
    Checkpointer(cfg.logdir, model, optimizer).save(1)
    config_lib.save(cfg, cfg.logdir)
    keras.backend.clear_session()
    a_file = base / "a_file"
    a_file.write_text("not a folder")
    return {"base": base, "root": root, "run": cfg.logdir, "file": str(a_file)}


def _train_args(root, logdir, *extra) -> list[str]:
    """A tiny training run (the same config as the `data` fixture's run)."""
    root = root["root"] if isinstance(root, dict) else root
    return [
        f"--logdir={logdir}",
        f"--config.data.path={root}",
        "--config.datasets=[tiny]",
        "--config.data.image_size=32",
        "--config.train.batch_size=2",
        "--config.train.num_frames=4",
        "--config.train.max_iters=1",
        "--config.train.visualize_interval=0",
        "--config.model.embedding_size=8",
        "--config.model.conv_embedder.conv_layers=[[16, 3, True]]",
        "--config.model.conv_embedder.fc_layers=[16]",
        *extra,
    ]


# ----------------------------------------------------------------------------- tcc.train

TRAIN_CASES = {
    # id: (extra arguments, words the error line must contain)
    "batch_size_0": (["--config.train.batch_size=0"], ["train.batch_size=0", ">= 1"]),
    "batch_size_negative": (["--config.train.batch_size=-2"], ["train.batch_size=-2"]),
    "num_steps_0": (["--config.data.num_steps=0"], ["data.num_steps=0"]),
    "num_frames_0": (["--config.train.num_frames=0"], ["train.num_frames=0"]),
    "save_interval_0": (["--config.checkpoint.save_interval=0"], ["checkpoint.save_interval"]),
    "max_iters_negative": (["--config.train.max_iters=-5"], ["train.max_iters=-5", ">= 0"]),
    "lr_0": (["--config.optimizer.lr.initial_lr=0"], ["optimizer.lr.initial_lr"]),
    "unknown_algo": (["--config.training_algo=tccc"], ["training_algo", "'tccc'", "alignment"]),
    "unknown_strategy": (["--config.strategy=mirorred"], ["strategy", "did you mean mirrored"]),
    "unknown_eval_task": (["--config.eval.tasks=[kendals_tau]"], ["did you mean kendalls_tau"]),
    "unknown_config_key": (["--config.train.max_iter=5"], ["train.max_iter", "train.max_iters"]),
    "bad_value_type": (["--config.train.batch_size=two"], ["train.batch_size", "'two'"]),
    "unknown_absl_flag": (["--max_iters=5"], ["--max_iters", "--config.train.max_iters"]),
    "missing_config_file": (["--config=/no/such/config.py"], ["/no/such/config.py"]),
    "missing_data_path": (["--config.data.path=/no/such/records"], ["/no/such/records"]),
    "unknown_dataset": (["--config.datasets=[tinyy]"], ["'tinyy'", "did you mean tiny"]),
    "num_steps_beyond_shortest_video": (["--config.data.num_steps=200"], ["num_steps=200"]),
    "features_config_on_pixel_records": (
        ["--config.data.input_kind=features"],
        ["input_kind", "tiny/train-00000-of-00001.tfrecord"],
    ),
    "pixel_config_on_feature_records": (
        ["--config.datasets=[poses13]"],
        ["input_kind", "poses13/train-00000-of-00001.tfrecord"],
    ),
    "12_joints_on_13_joint_data": (
        [
            "--config.datasets=[poses13]",
            "--config.data.input_kind=features",
            "--config.pose.num_joints=12",
            "--config.pose.visibility=true",
        ],
        ["39 values per frame", "pose.num_joints=12", "poses13/train"],
    ),
    "truncated_shard": (["--config.datasets=[truncated]"], ["truncated/train-0", "truncated"]),
    "empty_shard": (["--config.datasets=[empty]"], ["empty/train-0", "0-byte"]),
    "random_bytes_shard": (["--config.datasets=[garbage]"], ["garbage/train-0"]),
    "labels_not_one_per_frame": (
        ["--config.datasets=[mismatch]"],
        ["mismatch/train-0", "'short_labels'", "7 frame_labels for 20 frames"],
    ),
    "one_frame_video": (["--config.datasets=[one_frame]"], ["'single'", "data.num_steps=2"]),
    "supervised_stray_phase_id": (
        ["--config.datasets=[phase99]", "--config.training_algo=supervised"],
        ["phase99", "'v1'", "99"],
    ),
    "supervised_label_beyond_num_classes": (
        [
            "--config.datasets=[phase99]",
            "--config.training_algo=supervised",
            "--config.classification.num_classes=3",
        ],
        ["phase id 99", "num_classes=3"],
    ),
}


@pytest.mark.parametrize("case", list(TRAIN_CASES))
def test_train_bad_input_is_one_error_line_and_leaves_no_logdir(case, data, capsys, tmp_path):
    extra, culprits = TRAIN_CASES[case]
    logdir = tmp_path / "run"
    out = run_entry(capsys, "tcc.train", _train_args(data, logdir, *extra))
    assert_one_error(out, *culprits)
    assert not logdir.exists(), sorted(os.listdir(logdir))


def test_train_unwritable_logdir_is_one_error_line(data, capsys):
    logdir = os.path.join(data["file"], "run")  # a file where a folder is expected
    out = run_entry(capsys, "tcc.train", _train_args(data, logdir))
    assert_one_error(out, data["file"])


def test_a_failed_first_run_does_not_pin_its_config_and_leftovers_are_removed(
    data, capsys, tmp_path
):
    from tcc import config as config_lib

    logdir = tmp_path / "run"
    first = config_lib.get_default_config()
    first.train.batch_size = 3  # what a failed first run of an older version left behind
    config_lib.save(first, str(logdir))
    temp = logdir / "checkpoints" / "ckpt-7_temp"
    temp.mkdir(parents=True)
    (temp / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"half")
    out = run_entry(capsys, "tcc.train", _train_args(data, logdir))
    assert out.code == 0 and not out.errors, out.stderr[-2000:]
    assert not temp.exists()
    assert json.loads((logdir / "config.json").read_text())["train"]["batch_size"] == 2
    assert (logdir / "checkpoints" / "ckpt-1.index").exists()


# ----------------------------------------------------------------------------- evaluate / extract


@pytest.fixture
def truncated_run(data, tmp_path):
    run = tmp_path / "truncated_run"
    shutil.copytree(data["run"], run)
    (blob,) = (run / "checkpoints").glob("ckpt-1.data-*")
    blob.write_bytes(blob.read_bytes()[:100])
    return str(run)


EVAL_CASES = {
    "no_logdir": (lambda d: [], ["--logdir"]),
    "logdir_without_config": (lambda d: [f"--logdir={d['base']}"], ["config.json"]),
    "missing_checkpoint": (
        lambda d: [f"--logdir={d['run']}", f"--checkpoint={d['run']}/checkpoints/ckpt-99"],
        ["ckpt-99", "does not exist"],
    ),
    "unknown_task": (
        lambda d: [f"--logdir={d['run']}", "--config.eval.tasks=[nope]"],
        ["eval task 'nope'"],
    ),
    "misspelt_task": (
        lambda d: [f"--logdir={d['run']}", "--config.eval.tasks=[few_shots]"],
        ["did you mean few_shot"],
    ),
    "unknown_split": (
        lambda d: [f"--logdir={d['run']}", "--config.eval.splits=[tset]"],
        ["'tset'", "train, val"],
    ),
    "unknown_flag": (lambda d: [f"--logdir={d['run']}", "--continuous"], ["--continuous_eval"]),
}


@pytest.mark.parametrize("case", list(EVAL_CASES))
def test_evaluate_bad_input_is_one_error_line(case, data, capsys):
    argv, culprits = EVAL_CASES[case]
    out = run_entry(capsys, "tcc.evaluate", argv(data))
    assert_one_error(out, *culprits)
    assert not os.path.exists(os.path.join(data["run"], "eval"))


def test_evaluate_truncated_checkpoint_names_it(truncated_run, capsys):
    out = run_entry(capsys, "tcc.evaluate", [f"--logdir={truncated_run}"])
    assert_one_error(out, f"{truncated_run}/checkpoints/ckpt-1", "truncated or corrupt")


def test_resume_from_a_truncated_checkpoint_names_it(truncated_run, data, capsys):
    out = run_entry(
        capsys, "tcc.train", _train_args(data, truncated_run, "--config.train.max_iters=2")
    )
    assert_one_error(out, "checkpoints/ckpt-1")


def test_evaluate_corrupt_config_json_names_it(data, capsys, tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    out = run_entry(capsys, "tcc.evaluate", [f"--logdir={tmp_path}"])
    assert_one_error(out, f"{tmp_path}/config.json")


EXTRACT_CASES = {
    "unknown_split": (["--split=test"], ["'test'", "train, val"]),
    "unknown_dataset": (["--dataset=tiniy"], ["'tiniy'", "did you mean tiny"]),
    "no_output": (None, ["--output"]),
    "unwritable_output": ("file", ["a_file"]),
}


@pytest.mark.parametrize("case", list(EXTRACT_CASES))
def test_extract_embeddings_bad_input_is_one_error_line(case, data, capsys, tmp_path):
    extra, culprits = EXTRACT_CASES[case]
    output = tmp_path / "embs.npz"
    argv = [f"--logdir={data['run']}"]
    if extra is None:
        pass
    elif extra == "file":
        argv.append(f"--output={data['file']}/embs.npz")
    else:
        argv += [*extra, f"--output={output}"]
    out = run_entry(capsys, "tcc.extract_embeddings", argv)
    assert_one_error(out, *culprits)
    assert not output.exists() and not list(tmp_path.iterdir())


# ----------------------------------------------------------------------------- experiments

EXPERIMENT_CASES = {
    "no_experiment": ([], ["--experiment"]),
    "unknown_experiment": (["--experiment=few_shots"], ["did you mean few_shot"]),
    "unknown_preset": (["--experiment=few_shot", "--preset=mirco"], ["did you mean micro"]),
    "zero_seeds": (["--experiment=few_shot", "--seeds=0"], ["--seeds=0"]),
    "bad_config_value": (
        ["--experiment=few_shot", "--preset=micro", "--config.train.batch_size=0"],
        ["train.batch_size=0"],
    ),
    "missing_records": (
        ["--experiment=few_shot", "--preset=micro", "--config.data.path=/no/such/records"],
        ["/no/such/records"],
    ),
}


@pytest.mark.parametrize("case", list(EXPERIMENT_CASES))
def test_experiments_bad_input_is_one_error_line_before_any_run(case, capsys, tmp_path):
    argv, culprits = EXPERIMENT_CASES[case]
    out = run_entry(capsys, "tcc.experiments.__main__", [*argv, f"--output_dir={tmp_path}/out"])
    assert_one_error(out, *culprits)
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- converters


def _frames_folder(path, count: int) -> None:
    import imageio.v2 as imageio

    path.mkdir(parents=True)
    for t in range(count):
        imageio.imwrite(path / f"{t:04d}.png", np.full((24, 24, 3), 10 * t, np.uint8))


def _convert_input(tmp_path, one_frame: bool = False, nan_pose: bool = False):
    src = tmp_path / "in"
    if nan_pose:
        (src / "train").mkdir(parents=True)
        np.save(src / "train" / "good.npy", np.ones((10, 13, 2), np.float32))
        np.save(src / "train" / "lost.npy", np.full((10, 13, 2), np.nan, np.float32))
    else:
        _frames_folder(src / "train" / "good", 6)
        if one_frame:
            _frames_folder(src / "train" / "single", 1)
    return src


CONVERT_CASES = {
    "missing_flags": (lambda p: [], ["--input_dir", "--output_dir", "--name"]),
    "missing_input_dir": (
        lambda p: [f"--input_dir={p}/nope", f"--output_dir={p}/out", "--name=x"],
        ["nope"],
    ),
    "bad_jpeg_quality": (
        lambda p: [
            f"--input_dir={_convert_input(p)}",
            f"--output_dir={p}/out",
            "--name=x",
            "--jpeg_quality=0",
        ],
        ["jpeg_quality"],
    ),
    "one_frame_video": (
        lambda p: [
            f"--input_dir={_convert_input(p, one_frame=True)}",
            f"--output_dir={p}/out",
            "--name=x",
            "--image_size=16",
            "--noprogress",
        ],
        ["train/single", "1 frame"],
    ),
    "all_nan_pose_file": (
        lambda p: [
            f"--input_dir={_convert_input(p, nan_pose=True)}",
            f"--output_dir={p}/out",
            "--name=x",
            "--noprogress",
        ],
        ["lost.npy", "NaN"],
    ),
    "unknown_flag": (lambda p: ["--ouput_dir=x"], ["--ouput_dir", "--output_dir"]),
    "unwritable_output": (
        lambda p: [
            f"--input_dir={_convert_input(p)}",
            f"--output_dir={p}/in/train/good/0000.png",
            "--name=x",
            "--image_size=16",
            "--noprogress",
        ],
        ["0000.png"],
    ),
}


@pytest.mark.parametrize("case", list(CONVERT_CASES))
def test_convert_bad_input_is_one_error_line_and_writes_nothing(case, capsys, tmp_path):
    argv, culprits = CONVERT_CASES[case]
    out = run_entry(capsys, "tcc.datasets.convert", argv(tmp_path))
    assert_one_error(out, *culprits)
    assert not (tmp_path / "out").exists()


def test_verify_rejects_an_empty_shard_and_warns_about_a_one_frame_video(data, capsys):
    out = run_entry(capsys, "tcc.datasets.convert", [f"--verify={data['root']}/empty"])
    assert_one_error(out, "empty/train-00000-of-00001.tfrecord", "0-byte")
    out = run_entry(capsys, "tcc.datasets.convert", [f"--verify={data['root']}/one_frame"])
    assert out.code == 0 and "warning:" in out.stderr and "(single): 1 frame" in out.stderr


def test_convert_sigterm_cleans_up_like_ctrl_c(capsys, tmp_path, monkeypatch):
    from tcc.datasets import convert

    src = _convert_input(tmp_path)
    _frames_folder(src / "train" / "later", 4)
    real = convert.load_example
    calls = []

    def load_then_get_killed(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(convert, "load_example", load_then_get_killed)
    argv = [f"--input_dir={src}", f"--output_dir={tmp_path}/out", "--name=x", "--noprogress"]
    out = run_entry(capsys, "tcc.datasets.convert", argv)
    assert_one_error(out, "interrupted by signal 15", code=128 + signal.SIGTERM)
    assert not (tmp_path / "out").exists()
    assert signal.getsignal(signal.SIGTERM) is not None  # the handler was put back


def test_convert_removes_staging_folders_of_killed_runs(capsys, tmp_path):
    src = _convert_input(tmp_path)
    out_dir = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out_dir / ".tcc-convert-killed"
    stale.mkdir(parents=True)
    (stale / ".owner-pid").write_text(str(dead.pid))
    (stale / "x").mkdir()
    argv = [
        f"--input_dir={src}",
        f"--output_dir={out_dir}",
        "--name=x",
        "--noprogress",
        "--image_size=16",
    ]
    out = run_entry(capsys, "tcc.datasets.convert", argv)
    assert out.code == 0, out.stderr[-2000:]
    assert sorted(os.listdir(out_dir)) == ["x"]


PENN_CASES = {
    "missing_flags": ([], ["--input_dir", "--output_dir"]),
    "unknown_action": (["--input_dir={p}", "--output_dir={p}/out", "--actions=squatz"], ["squatz"]),
    "missing_input": (["--input_dir={p}/nope", "--output_dir={p}/out"], ["nope"]),
}


@pytest.mark.parametrize("case", list(PENN_CASES))
def test_penn_action_bad_input_is_one_error_line(case, capsys, tmp_path):
    argv, culprits = PENN_CASES[case]
    (tmp_path / "frames").mkdir()
    (tmp_path / "labels").mkdir()
    out = run_entry(capsys, "tcc.datasets.penn_action", [a.format(p=tmp_path) for a in argv])
    assert_one_error(out, *culprits)
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- apps

APP_CASES = {
    "align_missing_logdir": (
        "align",
        lambda d, o: [
            "--logdir=/no/such/run",
            "--query=v0",
            "--references=v1",
            f"--output_dir={o}",
        ],
        ["/no/such/run"],
    ),
    "align_unknown_video": (
        "align",
        lambda d, o: [
            f"--logdir={d['run']}",
            "--query=val_0",
            "--references=vall_1",
            f"--output_dir={o}",
        ],
        ["vall_1"],
    ),
    "anomaly_unknown_flag": (
        "anomaly",
        lambda d, o: [f"--logdir={d['run']}", "--percentil=2", f"--output_dir={o}"],
        ["--percentil", "--percentile"],
    ),
    "retrieve_missing_checkpoint": (
        "retrieve",
        lambda d, o: [
            f"--logdir={d['run']}",
            f"--checkpoint={d['run']}/checkpoints/ckpt-9",
            "--query=val_0",
            "--frame=0",
            f"--output_dir={o}",
        ],
        ["ckpt-9"],
    ),
}


@pytest.mark.parametrize("case", list(APP_CASES))
def test_app_bad_input_is_one_error_line(case, data, capsys, tmp_path):
    module, argv, culprits = APP_CASES[case]
    out_dir = tmp_path / "out"
    out = run_entry(capsys, f"tcc.apps.{module}", argv(data, out_dir))
    assert_one_error(out, *culprits)
    assert not out_dir.exists() or not list(out_dir.iterdir())


# ----------------------------------------------------------------------------- real processes


def _subprocess(args: list[str], env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3", **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=REPO,
    )


def test_command_line_unknown_flag_and_debug_traceback(data, tmp_path):
    plain = _subprocess(["tcc.train", "--max_iters=5", f"--logdir={tmp_path}/a"])
    assert plain.returncode == 1
    lines = [x for x in plain.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and "--config.train.max_iters" in lines[0]
    assert "Traceback" not in plain.stderr
    debug = _subprocess(
        ["tcc.evaluate", f"--logdir={data['run']}", "--config.eval.tasks=[nope]"],
        {"TCC_DEBUG": "1"},
    )
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "'nope'" in debug.stderr
    assert not (tmp_path / "a").exists()
