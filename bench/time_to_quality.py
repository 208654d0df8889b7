"""Time to quality: CPU-minutes of training until val Kendall's tau reaches 0.5 / 0.7 / 0.8 / 0.9.

  python bench/time_to_quality.py --preset=default --seeds=0,1,2
  python bench/time_to_quality.py --preset=cpu --seeds=0,1,2 --parallel=2
  python bench/time_to_quality.py --preset=pose --seeds=0,1,2 --dataset=squats
  python bench/time_to_quality.py --config=configs/default.py --set=train.batch_size=8 --seeds=0

Every seed trains in its own process (so its CPU time, user + system, is its own and does not
depend on other load on the machine). Every `--eval_every` steps the process embeds the val split
and measures Kendall's tau (every frame, the config's `eval.kendalls_tau_stride`) and phase
classification with 10 % of the training videos labelled (pixel presets; an SVC as in
`tcc.evaluate`). The CPU time spent evaluating is not counted. The table gives, per seed, the
training CPU-minutes at which tau first reached each threshold, the final tau and accuracy; rows
are appended to `--jsonl` as they finish.

This is the performance figure of the package: a faster step that learns slower is no gain.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SHARED = os.path.join(ROOT, "..", "shared", "data", "penn_action_joints")
THRESHOLDS = (0.5, 0.7, 0.8, 0.9)

# preset -> (config file, overrides); the pose preset needs --dataset (one model per action).
PRESETS = {
    "default": ("configs/default.py", []),
    "cpu": ("configs/experiments_cpu.py", []),
    "pose": ("configs/penn_action_joints.py", []),
}


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def _evaluate(model, cfg, root: str, with_classification: bool) -> dict[str, float]:
    from tcc.datasets.input_options import InputOptions  # noqa: PLC0415
    from tcc.evaluation import embed  # noqa: PLC0415
    from tcc.evaluation.kendalls_tau import kendalls_tau  # noqa: PLC0415
    from tcc.evaluation.phase_classification import phase_classification  # noqa: PLC0415

    fn = embed.model_embed_fn(model)
    out = {}
    name = cfg.datasets[0]
    val = embed.embed_split(fn, InputOptions.from_config(cfg), name, "val", stride=1, root=root)
    out["tau"] = kendalls_tau(val.embs, stride=int(cfg.eval.kendalls_tau_stride))
    if with_classification and val.has_labels:
        n_train = max(1, int(0.1 * _num_videos(root, name, cfg)))
        train = embed.embed_split(
            fn,
            InputOptions.from_config(cfg),
            name,
            "train",
            stride=1,
            root=root,
            max_videos=n_train,
        )
        acc = phase_classification(train.embs, train.labels, val.embs, val.labels, fractions=(1.0,))
        out["class@0.1"] = acc[1.0]
    return out


def _num_videos(root: str, name: str, cfg) -> int:
    from tcc.datasets import records  # noqa: PLC0415

    return sum(
        1 for _ in records.read_split(root, name, "train", decode=False, kind=cfg.data.input_kind)
    )


def worker(args: argparse.Namespace) -> None:
    """Trains one seed in this process, printing one JSON line per evaluation."""
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    from tcc import config as config_lib  # noqa: PLC0415
    from tcc.datasets import data_root, pipeline  # noqa: PLC0415
    from tcc.training import loop  # noqa: PLC0415

    cfg = config_lib.load(os.path.join(ROOT, args.config), args.set)
    cfg.seed = args.seed
    keras.utils.set_random_seed(cfg.seed)
    root = data_root.resolve(cfg)
    cfg = loop.prepare_config(cfg, root)
    strategy = tf.distribute.get_strategy()
    ds = pipeline.make_train_dataset(
        pipeline.InputOptions.from_config(cfg), seed=cfg.seed, root=root
    )
    feature_dim = None
    if cfg.data.input_kind == "features":
        feature_dim = ds.element_spec["frames"].shape[-1]
    model, _ = loop.build_model_and_optimizer(cfg, strategy, feature_dim)
    step_fn = loop._distributed_step(model, strategy)  # noqa: SLF001 (the trainer's own step)
    it = iter(ds)
    classify = cfg.data.input_kind == "frames"
    eval_cpu = 0.0
    start_cpu = _cpu_seconds()
    max_cpu = args.max_cpu_minutes * 60
    step = 0
    while step < cfg.train.max_iters:
        out = step_fn(it)
        step += 1
        if step % args.eval_every == 0 or step == cfg.train.max_iters:
            loss = float(out["loss"])
            t0 = _cpu_seconds()
            metrics = _evaluate(model, cfg, root, classify)
            eval_cpu += _cpu_seconds() - t0
            train_cpu = _cpu_seconds() - start_cpu - eval_cpu
            row = {"seed": args.seed, "step": step, "cpu_s": round(train_cpu, 1), "loss": loss}
            row.update({k: round(v, 4) for k, v in metrics.items()})
            print("TTQ " + json.dumps(row), flush=True)
            if train_cpu > max_cpu:
                break


def _run_seed(args: argparse.Namespace, seed: int) -> subprocess.Popen:
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        f"--seed={seed}",
        f"--config={args.config}",
        f"--eval_every={args.eval_every}",
        f"--max_cpu_minutes={args.max_cpu_minutes}",
    ]
    cmd += [f"--set={s}" for s in args.set]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if args.threads:
        env["TF_NUM_INTRAOP_THREADS"] = str(args.threads)
        env["TF_NUM_INTEROP_THREADS"] = str(args.threads)
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )


def _read_rows(proc: subprocess.Popen, rows: list[dict], verbose: bool) -> None:
    """Collects a worker's evaluation rows as they come (echoed with --verbose)."""
    for line in proc.stdout:
        if line.startswith("TTQ "):
            rows.append(json.loads(line[4:]))
            if verbose:
                print(line.strip(), flush=True)


def summarize(rows: list[dict]) -> dict:
    """Per-seed CPU-minutes to each tau threshold, final tau / accuracy."""
    out = {"seed": rows[0]["seed"], "steps": rows[-1]["step"]}
    for th in THRESHOLDS:
        hit = next((r for r in rows if r.get("tau", -1) >= th), None)
        out[f"min@{th}"] = round(hit["cpu_s"] / 60, 2) if hit else None
    out["final_tau"] = rows[-1].get("tau")
    out["best_tau"] = max(r.get("tau", -1) for r in rows)
    out["final_class@0.1"] = rows[-1].get("class@0.1")
    out["cpu_min"] = round(rows[-1]["cpu_s"] / 60, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None)
    parser.add_argument("--config", default="configs/default.py")
    parser.add_argument("--dataset", default="", help="pose preset: squats | pushups | pullups")
    parser.add_argument("--set", action="append", default=[], help="config override key=value")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--eval_every", type=int, default=100)
    parser.add_argument("--max_cpu_minutes", type=float, default=15.0)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="TF threads per run (0 = TF's)")
    parser.add_argument("--jsonl", default="", help="append the per-seed summaries here")
    parser.add_argument("--label", default="")
    parser.add_argument("--verbose", action="store_true", help="print every evaluation row")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.preset:
        args.config, preset_sets = PRESETS[args.preset]
        args.set = preset_sets + args.set
    if args.dataset:
        args.set = [f"datasets=[{args.dataset}]"] + args.set
    if args.worker:
        worker(args)
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    pending, running, results = list(seeds), {}, []
    start = time.time()
    while pending or running:
        while pending and len(running) < args.parallel:
            seed = pending.pop(0)
            proc = _run_seed(args, seed)
            rows: list[dict] = []
            reader = threading.Thread(target=_read_rows, args=(proc, rows, args.verbose))
            reader.start()
            running[seed] = (proc, rows, reader)
        for seed, (proc, rows, reader) in list(running.items()):
            if proc.poll() is None:
                continue
            reader.join()
            del running[seed]
            if proc.returncode or not rows:
                print(f"seed {seed}: failed (exit {proc.returncode})", flush=True)
                continue
            summary = summarize(rows)
            summary.update(
                label=args.label or args.preset or args.config,
                sets=args.set,
                curve=[(r["step"], r["cpu_s"], r.get("tau")) for r in rows],
            )
            results.append(summary)
            print(json.dumps({k: v for k, v in summary.items() if k != "curve"}), flush=True)
            if args.jsonl:
                with open(args.jsonl, "a", encoding="utf-8") as f:
                    f.write(json.dumps(summary) + "\n")
        time.sleep(1)
    _print_table(results, time.time() - start)


def _print_table(results: list[dict], wall: float) -> None:
    cols = (
        ["seed", "steps"]
        + [f"min@{t}" for t in THRESHOLDS]
        + ["final_tau", "best_tau", "final_class@0.1", "cpu_min"]
    )
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in sorted(results, key=lambda r: r["seed"]):
        print("| " + " | ".join("—" if r.get(c) is None else str(r.get(c)) for c in cols) + " |")
    print(f"wall time {wall / 60:.1f} min")


if __name__ == "__main__":
    main()
