"""Tests for the experiment runner: micro grid end to end, resumption, aggregation, presets."""

import json
import os
import shutil

import numpy as np
import pytest
from conftest import tiny_config

from tcc.experiments import aggregate, execution, grid, presets, runner

# The micro runs test the runner's bookkeeping, not learning: 2 steps of a tiny model can blow up
# (regression_mse_var on 8-d embeddings), which the divergence guard would rightly stop.
MICRO = {
    "train.max_iters": 2,
    "checkpoint.save_interval": 100,
    "eval.few_shot_num_episodes": 2,
    "train.divergence_factor": 0,
}
MICRO_RUNS = ["tcc", "supervised_k1"]


def _micro_cfg(root, tmp):
    return tiny_config(root, os.path.join(tmp, "unused"), **MICRO)


@pytest.fixture(scope="module")
def micro_run(tiny_root, tmp_path_factory):
    """The few_shot grid restricted to 2 runs, 1 seed, 2 steps each, on the tiny dataset."""
    out = str(tmp_path_factory.mktemp("experiments"))
    cfg = _micro_cfg(tiny_root, out)
    summary, failures = runner.run_experiment("few_shot", cfg, [0], out, MICRO_RUNS)
    return {"out": out, "cfg": cfg, "summary": summary, "failures": failures}


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_micro_grid_writes_the_table_between_markers_and_the_plot(micro_run):
    assert micro_run["failures"] == []
    text = _read(os.path.join(micro_run["out"], "RESULTS.md"))
    section = text[
        text.index("<!-- experiment:few_shot -->") : text.index("<!-- /experiment:few_shot -->")
    ]
    assert "| Method | 1 video | paper | 2 videos | paper | seeds |" in section
    tcc_row = next(line for line in section.splitlines() if line.startswith("| TCC |"))
    assert tcc_row.split("|")[2].strip() not in ("", "–")  # a number for k=1
    png = os.path.join(micro_run["out"], "results", "few_shot.png")
    assert "](results/few_shot.png)" in section
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.isfile(os.path.join(micro_run["out"], "few_shot", "summary.json"))


def test_table_cells_are_the_metrics_the_evaluation_wrote(micro_run):
    logdir = runner.run_logdir(micro_run["out"], "few_shot", "tcc", 0)
    record = json.loads(_read(os.path.join(logdir, "eval", "metrics.jsonl")).splitlines()[-1])
    assert record["step"] == 2
    cell = micro_run["summary"].rows["TCC"]["2 videos"]
    assert cell.n == 1 and cell.mean == pytest.approx(record["metrics"]["few_shot@2"])


def test_supervised_row_is_scored_on_exactly_its_k_labelled_videos(micro_run):
    logdir = runner.run_logdir(micro_run["out"], "few_shot", "supervised_k1", 0)
    result = runner.load_result(logdir)
    (metric,) = result["columns"].values()
    fraction = float(metric.split("@")[1])
    assert int(fraction * 6) == 1  # 6 train videos: the pipeline and the SVM both take 1
    assert set(result["cells"]) == {"1 video"}
    assert result["cells"]["1 video"] == result["metrics"][metric]


def _count_calls(monkeypatch, calls):
    from tcc import runs
    from tcc.training import loop

    def counting(name, real):
        def wrapped(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(loop, "train", counting("train", loop.train))
    monkeypatch.setattr(runs, "evaluate_checkpoint", counting("evaluate", runs.evaluate_checkpoint))


def test_rerunning_skips_finished_runs(micro_run, monkeypatch):
    path = os.path.join(
        runner.run_logdir(micro_run["out"], "few_shot", "tcc", 0), runner.RESULT_FILE
    )
    mtime = os.path.getmtime(path)
    calls = []
    _count_calls(monkeypatch, calls)
    _, failures = runner.run_experiment(
        "few_shot", micro_run["cfg"], [0], micro_run["out"], MICRO_RUNS
    )
    assert calls == [] and failures == []
    assert os.path.getmtime(path) == mtime


def test_an_unfinished_run_resumes_from_its_checkpoint(micro_run, monkeypatch, tmp_path):
    out = str(tmp_path / "copy")
    shutil.copytree(micro_run["out"], out)
    os.remove(os.path.join(runner.run_logdir(out, "few_shot", "tcc", 0), runner.RESULT_FILE))
    from tcc.training import loop

    starts = []
    real = loop.train
    monkeypatch.setattr(loop, "train", lambda cfg, **kw: starts.append(r := real(cfg, **kw)) or r)
    _, failures = runner.run_experiment("few_shot", micro_run["cfg"], [0], out, MICRO_RUNS)
    assert failures == []
    assert [(r.start_step, r.final_step) for r in starts] == [(2, 2)]  # nothing retrained
    assert runner.load_result(runner.run_logdir(out, "few_shot", "tcc", 0))["step"] == 2


def _record_train_steps(monkeypatch):
    from tcc.training import loop

    starts = []
    real = loop.train
    monkeypatch.setattr(loop, "train", lambda cfg, **kw: starts.append(r := real(cfg, **kw)) or r)
    return starts


def _files(directory):
    out = {}
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            out[name] = f.read()
    return out


def test_a_run_trained_by_another_experiment_is_evaluated_not_retrained(
    micro_run, monkeypatch, tmp_path
):
    out = str(tmp_path / "copy")
    shutil.copytree(micro_run["out"], out)
    starts = _record_train_steps(monkeypatch)
    _, failures = runner.run_experiment("from_scratch", micro_run["cfg"], [0], out, ["tcc"])
    assert failures == []
    assert [(r.start_step, r.final_step) for r in starts] == [(2, 2)]  # restored, not trained
    source = runner.run_logdir(out, "few_shot", "tcc", 0)
    target = runner.run_logdir(out, "from_scratch", "tcc", 0)
    result = runner.load_result(target)
    assert result["trained_in"] == source and result["step"] == 2
    assert set(result["cells"]) == {"Class. 0.1", "Class. 0.5", "Class. 1.0"}  # its own tasks
    assert _files(os.path.join(target, "checkpoints")) == _files(
        os.path.join(source, "checkpoints")
    )
    text = _read(os.path.join(out, "RESULTS.md"))
    assert "1 of the runs evaluated a model trained by another experiment" in text


def test_reuse_needs_the_same_training_config_and_seed_and_can_be_disabled(
    micro_run, monkeypatch, tmp_path
):
    from tcc.experiments import jobs

    out = str(tmp_path / "copy")
    shutil.copytree(micro_run["out"], out)
    starts = _record_train_steps(monkeypatch)
    longer = micro_run["cfg"].copy_and_resolve_references()
    longer.train.max_iters = 3  # another step budget: another model
    runner.run_experiment("from_scratch", longer, [0], out, ["tcc"])
    runner.run_experiment("from_scratch", micro_run["cfg"], [1], out, ["tcc"])  # another seed
    runner.run_experiment("combined", micro_run["cfg"], [0], out, ["tcc"], reuse=False)
    assert [(r.start_step, r.final_step) for r in starts] == [(0, 3), (0, 2), (0, 2)]
    for experiment, seed in (("from_scratch", 0), ("from_scratch", 1), ("combined", 0)):
        logdir = runner.run_logdir(out, experiment, "tcc", seed)
        assert runner.load_result(logdir)["trained_in"] == ""
    a = micro_run["cfg"]
    b = a.copy_and_resolve_references()
    b.eval.tasks = ["kendalls_tau"]
    b.logdir = "/elsewhere"
    assert jobs.same_training(a, b)
    b.alignment.loss_type = "classification"
    assert not jobs.same_training(a, b)


def _fake_result(out, experiment, run, seed, cells, metrics=None):
    logdir = runner.run_logdir(out, experiment, run, seed)
    os.makedirs(logdir)
    data = {
        "experiment": experiment,
        "run": run,
        "row": run,
        "seed": seed,
        "step": 7,
        "cells": cells,
        "metrics": metrics or {},
        "seconds": 1.0,
    }
    with open(os.path.join(logdir, runner.RESULT_FILE), "w", encoding="utf-8") as f:
        json.dump(data, f)


def test_aggregation_gives_numpy_mean_and_sample_std_over_seeds(tmp_path):
    experiment = grid.loss_ablation(None)
    rng = np.random.default_rng(0)
    values = {run.name: rng.uniform(size=(3, len(experiment.columns))) for run in experiment.runs}
    for name, table in values.items():
        for seed in range(3):
            cells = {
                c.label: float(v) for c, v in zip(experiment.columns, table[seed], strict=True)
            }
            _fake_result(str(tmp_path), "loss_ablation", name, seed, cells)
    summary = aggregate.summarize(
        experiment, aggregate.load_results(experiment, str(tmp_path)), [0, 1, 2]
    )
    for run in experiment.runs:
        for j, column in enumerate(experiment.columns):
            cell = summary.rows[run.row][column.label]
            assert cell.n == 3
            assert cell.mean == pytest.approx(np.mean(values[run.name][:, j]))
            assert cell.std == pytest.approx(np.std(values[run.name][:, j], ddof=1))
    mse = values["regression_mse"]
    mean, std = 100 * mse[:, 0].mean(), 100 * np.std(mse[:, 0], ddof=1)
    expected = f"| Mean squared error | {mean:.1f} ± {std:.1f} | 86.16 |"
    assert expected in aggregate.markdown_table(experiment, summary)


def test_aggregation_ignores_seeds_not_requested_and_shows_no_std_for_one_seed(tmp_path):
    experiment = grid.loss_ablation(None)
    label = experiment.columns[1].label
    for seed, value in ((0, 0.25), (5, 0.75)):
        _fake_result(str(tmp_path), "loss_ablation", "classification", seed, {label: value})
    summary = aggregate.summarize(
        experiment, aggregate.load_results(experiment, str(tmp_path)), [0, 1, 2]
    )
    cell = summary.rows["Cycle-back classification"][label]
    assert (cell.mean, cell.n) == (0.25, 1) and np.isnan(cell.std)
    assert "| 0.250 | 0.6636 |" in aggregate.markdown_table(experiment, summary)


def test_weight_search_keeps_the_best_weight_on_val_and_trains_it_with_the_other_seeds(tmp_path):
    experiment = grid.combined(None)
    metrics_keys = [c.metric for c in experiment.columns]
    for weight, score in ((0.25, 0.4), (0.5, 0.7), (0.75, 0.6)):
        metrics = dict.fromkeys(metrics_keys, score)
        _fake_result(
            str(tmp_path),
            "combined",
            f"tcc_sal_w{weight}",
            0,
            {c.label: score for c in experiment.columns},
            metrics,
        )
    results = aggregate.load_results(experiment, str(tmp_path))
    assert aggregate.select_groups(experiment, results, [0]) == {"TCC+SaL": "tcc_sal_w0.5"}
    summary = aggregate.summarize(experiment, results, [0, 1, 2])
    assert summary.rows["TCC+SaL (w=0.5)"]["Progression"].mean == pytest.approx(0.7)
    cfg = presets.experiment_config("combined", "micro")
    jobs = runner._plan(
        cfg,
        experiment,
        list(experiment.runs),
        [0, 1, 2],
        str(tmp_path),
        False,
        {"TCC+SaL": "tcc_sal_w0.5"},
    )
    assert [(j.run, j.seed) for j in jobs] == [("tcc_sal_w0.5", 1), ("tcc_sal_w0.5", 2)]
    assert jobs[0].cfg.combined.alignment_loss_weight == 0.5
    assert jobs[0].cfg.combined.sal_loss_weight == 0.5


def test_search_phase_trains_every_weight_with_the_first_seed_only(tmp_path):
    experiment = grid.combined(None)
    cfg = presets.experiment_config("combined", "micro")
    jobs = runner._plan(cfg, experiment, list(experiment.runs), [0, 1, 2], str(tmp_path), True, {})
    searched = sorted((j.run, j.seed) for j in jobs if j.run.startswith("tcc_"))
    assert searched == sorted(
        (f"tcc_{o}_w{w}", 0) for o in ("sal", "tcn") for w in grid.COMBINATION_WEIGHTS
    )
    assert sorted(j.seed for j in jobs if j.run == "sal") == [0, 1, 2]
    tcn = next(j for j in jobs if j.run == "tcc_tcn_w0.75")
    assert (
        tcn.cfg.combined.alignment_loss_weight,
        tcn.cfg.combined.tcn_loss_weight,
        tcn.cfg.combined.sal_loss_weight,
    ) == (0.75, 0.25, 0.0)


def test_only_tcn_on_pixels_warms_its_learning_rate_up(tmp_path):
    """The warm-up that lets pixel TCN leave its plateau changes no other run's training."""
    for name in ("from_scratch", "combined", "few_shot"):
        for preset, expected in (("cpu", grid.TCN_PIXEL_WARMUP_STEPS), ("keypoints_synthetic", 0)):
            cfg = presets.experiment_config(name, preset)
            experiment = grid.get_experiment(name, cfg)
            runs = list(experiment.runs)
            jobs = runner._plan(cfg, experiment, runs, [0], str(tmp_path), True, {})
            warmup = {j.run: j.cfg.optimizer.lr.num_warmup_steps for j in jobs}
            assert warmup.pop("tcn") == expected, (name, preset)
            assert set(warmup.values()) == {cfg.optimizer.lr.num_warmup_steps} == {0}, name


def test_updating_results_replaces_only_its_own_section(tmp_path):
    path = str(tmp_path / "RESULTS.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write(
            "intro\n<!-- experiment:a -->\nold a\n<!-- /experiment:a -->\nmiddle\n"
            "<!-- experiment:b -->\nold b\n<!-- /experiment:b -->\nend\n"
        )
    aggregate.update_results_file(path, "a", "A", "new a")
    aggregate.update_results_file(path, "c", "Title C", "new c")
    text = _read(path)
    assert text.startswith("intro\n<!-- experiment:a -->\nnew a\n<!-- /experiment:a -->\nmiddle\n")
    assert "old b" in text and "old a" not in text
    assert text.endswith("## Title C\n\n<!-- experiment:c -->\nnew c\n<!-- /experiment:c -->\n")


def test_from_scratch_supervised_runs_each_report_only_their_label_fraction():
    experiment = grid.from_scratch(None)
    supervised = [r for r in experiment.runs if r.row == "Supervised"]
    assert [r.overrides["data.per_dataset_fraction"] for r in supervised] == [0.1, 0.5, 1.0]
    assert [r.columns for r in supervised] == [(c.label,) for c in experiment.columns]
    assert all(not r.columns for r in experiment.runs if r.row != "Supervised")


def test_loss_ablation_runs_differ_only_in_the_loss_type():
    experiment = grid.get_experiment("loss_ablation", presets.experiment_config("x", "micro"))
    assert [r.overrides["alignment.loss_type"] for r in experiment.runs] == [
        "regression_mse",
        "classification",
        "regression_mse_var",
    ]
    assert {r.overrides["training_algo"] for r in experiment.runs} == {"alignment"}


def test_presets_apply_their_scale_and_command_line_overrides_win():
    micro = presets.experiment_config("loss_ablation", "micro", overrides=["train.max_iters=5"])
    assert (micro.train.max_iters, micro.model.embedding_size) == (5, 8)
    cpu = {name: presets.experiment_config(name, "cpu") for name in grid.EXPERIMENTS}
    assert all(c.data.path == "" and c.datasets == ["synthetic_pouring"] for c in cpu.values())
    assert all(0 < c.train.max_iters <= 5000 for c in cpu.values())
    paper = presets.experiment_config("from_scratch", "paper")
    assert (paper.model.base_model.network, paper.train.max_iters) == ("vggm", 150_000)
    keypoints = presets.experiment_config("few_shot", "keypoints")
    assert (keypoints.data.input_kind, keypoints.datasets) == (
        "features",
        ["squats", "pushups", "pullups"],
    )
    assert presets.get_preset("keypoints").tag == "keypoints"


def test_unknown_names_are_errors_that_list_the_valid_choices():
    with pytest.raises(KeyError, match="valid: loss_ablation, from_scratch"):
        grid.get_experiment("ablation", presets.experiment_config("x", "micro"))
    with pytest.raises(KeyError, match="valid: micro, cpu, keypoints, keypoints_synthetic, paper"):
        presets.experiment_config("loss_ablation", "gpu")
    experiment = grid.loss_ablation(None)
    with pytest.raises(ValueError, match="matches no run"):
        runner.select_runs(experiment, experiment.runs, ["tcn*"])
    assert [r.name for r in runner.select_runs(experiment, experiment.runs, ["regression*"])] == [
        "regression_mse",
        "regression_mse_var",
    ]


def _fake_start(child, args=lambda job: []):
    """An `execution._start` running Python code `child` with argv [logdir, *args(job)]."""
    import subprocess
    import sys

    def start(job, threads, reuse):
        os.makedirs(job.logdir, exist_ok=True)
        log = open(os.path.join(job.logdir, "run.log"), "ab")  # noqa: SIM115
        cmd = [sys.executable, "-c", child, job.logdir, *args(job)]
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log

    return start


def test_parallel_runs_at_most_n_jobs_at_a_time_and_reports_failures(tmp_path, monkeypatch):
    experiment = grid.loss_ablation(None)
    cfg = presets.experiment_config("loss_ablation", "micro")
    jobs = [
        runner.make_job(cfg, experiment, run, seed, str(tmp_path))
        for run in experiment.runs
        for seed in (0, 1)
    ]
    child = (
        "import json, os, sys, time; d = sys.argv[1]; t = time.time(); time.sleep(0.5); "
        "ok = 'classification' not in d; "
        "ok and json.dump({'seed': 0}, open(os.path.join(d, 'final_metrics.json'), 'w')); "
        "open(os.path.join(d, 'span'), 'w').write(f'{t} {time.time()}'); "
        "sys.exit(0 if ok else 3)"
    )
    monkeypatch.setattr(execution, "_start", _fake_start(child))
    failures = execution._run_parallel(jobs, parallel=2, poll=0.02)
    assert sorted(f.split(":")[0] for f in failures) == [
        "loss_ablation/classification/seed0",
        "loss_ablation/classification/seed1",
    ]
    assert all("exit code 3" in f for f in failures)
    spans = [tuple(map(float, _read(os.path.join(j.logdir, "span")).split())) for j in jobs]
    most = max(sum(s <= t < e for s, e in spans) for t, _ in spans)
    assert most == 2


def test_a_group_trains_its_other_seeds_as_soon_as_its_own_search_is_done(tmp_path, monkeypatch):
    """No core waits for another group's search: TCC+SaL's seeds 1 and 2 start while TCC+TCN's
    weights are still being tried, and every job runs once."""
    import functools

    experiment = grid.combined(None)
    metrics = [c.metric for c in experiment.columns]
    best = {"TCC+SaL": "tcc_sal_w0.5", "TCC+TCN": "tcc_tcn_w0.25"}
    child = (
        "import json, os, sys, time; d, result = sys.argv[1], json.loads(sys.argv[2]); "
        "t = time.time(); time.sleep(float(sys.argv[3])); "
        "json.dump(result, open(os.path.join(d, 'final_metrics.json'), 'w')); "
        "open(os.path.join(d, 'span'), 'a').write(f'{t} {time.time()}\\n')"
    )

    def args(job):
        score = 0.9 if job.run in best.values() else 0.5
        result = {
            "experiment": job.experiment,
            "run": job.run,
            "row": job.row,
            "seed": job.seed,
            "step": job.cfg.train.max_iters,
            "cells": {c.label: score for c in experiment.columns},
            "metrics": dict.fromkeys(metrics, score),
            "seconds": 1.0,
        }
        seconds = "0.6" if job.run.startswith("tcc_tcn") else "0.2"  # TCN's search ends last
        return [json.dumps(result), seconds]

    monkeypatch.setattr(execution, "_start", _fake_start(child, args))
    monkeypatch.setattr(execution, "prepare", lambda job, reuse=True: None)
    monkeypatch.setattr(
        execution, "_run_parallel", functools.partial(execution._run_parallel, poll=0.02)
    )
    cfg = presets.experiment_config("combined", "micro")
    results_file = str(tmp_path / "RESULTS.md")
    _, failures = runner.run_experiment(
        "combined", cfg, [0, 1, 2], str(tmp_path), ["tcc_*"], parallel=2, results_file=results_file
    )
    assert failures == []

    def spans(run, seed):
        path = os.path.join(runner.run_logdir(str(tmp_path), "combined", run, seed), "span")
        return [tuple(map(float, line.split())) for line in _read(path).splitlines()]

    ran = {
        (r.name, s): spans(r.name, s)
        for r in experiment.runs
        for s in (0, 1, 2)
        if os.path.exists(runner.run_logdir(str(tmp_path), "combined", r.name, s))
    }
    finals = {(run, s) for run in best.values() for s in (1, 2)}
    searches = {(r.name, 0) for r in experiment.runs if r.group}
    assert set(ran) == searches | finals
    assert all(len(v) == 1 for v in ran.values())  # nothing trained twice
    tcn_search_end = max(ran[(r, 0)][0][1] for r, _ in searches if r.startswith("tcc_tcn"))
    sal_finals_start = min(ran[("tcc_sal_w0.5", s)][0][0] for s in (1, 2))
    assert sal_finals_start < tcn_search_end
    assert "TCC+SaL (w=0.5)" in _read(results_file)


def test_paper_numbers_are_penn_action_for_penn_action_classes_else_pouring():
    cfg = presets.experiment_config("from_scratch", "micro")
    assert grid.from_scratch(cfg).paper["TCC"]["Class. 0.1"] == 86.82
    cfg.datasets = ["squats", "pushups"]
    experiment = grid.from_scratch(cfg)
    assert (experiment.paper_name, experiment.paper["TCC"]["Class. 0.1"]) == ("Penn Action", 74.68)
    assert grid.loss_ablation(cfg).paper == {}  # the paper's loss ablation is on Pouring only


def test_keypoints_synthetic_preset_runs_on_the_embedded_keypoints_with_its_own_section():
    cfg = presets.experiment_config("few_shot", "keypoints_synthetic")
    assert list(cfg.datasets) == ["synthetic_pouring_joints"] and cfg.data.path == ""
    assert (cfg.data.input_kind, cfg.train.max_iters) == ("features", 2000)
    assert presets.get_preset("keypoints_synthetic").tag == "keypoints_synthetic"
    assert grid.get_experiment("few_shot", cfg).paper_name == "Pouring"
