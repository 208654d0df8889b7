"""Aggregation of finished runs: mean ± std over seeds, Markdown tables in RESULTS.md, plots.

Reads the `final_metrics.json` of every run and seed of an experiment (`runner` writes them) and
never needs TensorFlow. Per table cell: the mean and the sample standard deviation (ddof=1) over
the seeds that finished; with one seed no ± is shown. The table goes into the results file between
`<!-- experiment:NAME -->` and `<!-- /experiment:NAME -->` (the rest of the file is kept; a
missing section is appended), the numbers also into `<output_dir>/<experiment>/summary.json`,
and the few-shot curves into `results/<section>.png` next to the results file.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import glob
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence

import numpy as np

from tcc import atomic
from tcc.experiments.grid import Experiment


@dataclasses.dataclass
class Cell:
    """One table cell: mean and sample std over `n` seeds (std NaN when n < 2)."""

    mean: float
    std: float
    n: int


@dataclasses.dataclass
class Summary:
    """An aggregated experiment.

    Attributes:
      rows: {row label shown: {column label: Cell}}, in table order.
      paper_rows: {row label shown: the paper's row key}.
      selected: {group: chosen run name} of weight searches.
      scores: {run name: its selection score on val} of the searched runs.
      steps: the training steps of the aggregated runs.
      seconds: total train + eval seconds of the experiment's runs with these seeds.
      reused: how many of those runs evaluated a model trained by another experiment
        (`trained_in` of their `final_metrics.json`; their seconds are evaluation only).
    """

    rows: dict[str, dict[str, Cell]]
    paper_rows: dict[str, str]
    selected: dict[str, str]
    scores: dict[str, float]
    steps: list[int]
    seconds: float
    reused: int = 0


def mean_std(values: Sequence[float]) -> Cell:
    """Mean and sample standard deviation (ddof=1; NaN for one value) of finite `values`."""
    arr = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    if arr.size == 0:
        return Cell(float("nan"), float("nan"), 0)
    std = float(np.std(arr, ddof=1)) if arr.size > 1 else float("nan")
    return Cell(float(np.mean(arr)), std, int(arr.size))


def load_results(experiment: Experiment, output_dir: str) -> dict[str, dict[int, dict]]:
    """{run name: {seed: final_metrics.json contents}} of the finished runs of `experiment`."""
    out: dict[str, dict[int, dict]] = {}
    for run in experiment.runs:
        pattern = os.path.join(output_dir, experiment.name, run.name, "seed*", "final_metrics.json")
        for path in sorted(glob.glob(pattern)):
            with open(path, encoding="utf-8") as f:
                result = json.load(f)
            out.setdefault(run.name, {})[int(result["seed"])] = result
    return out


def selection_score(
    experiment: Experiment, per_seed: Mapping[int, dict], seeds: Sequence[int]
) -> float:
    """Mean over `experiment.select_by` metrics of their mean over `seeds` (NaN if none)."""
    keys = experiment.select_by or tuple(c.metric for c in experiment.columns)
    values = [
        float(
            np.mean(
                [
                    per_seed[s]["metrics"][k]
                    for s in seeds
                    if s in per_seed and k in per_seed[s]["metrics"]
                ]
                or [np.nan]
            )
        )
        for k in keys
    ]
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def select_groups(
    experiment: Experiment, results: Mapping[str, Mapping[int, dict]], seeds: Sequence[int]
) -> dict[str, str]:
    """{group: the run of the group with the best validation score over `seeds`}.

    Ties go to the first run of the grid; groups without a finished run are absent.
    """
    best: dict[str, tuple[float, str]] = {}
    for run in experiment.runs:
        if not run.group or run.name not in results:
            continue
        score = selection_score(experiment, results[run.name], seeds)
        if math.isfinite(score) and (run.group not in best or score > best[run.group][0]):
            best[run.group] = (score, run.name)
    return {group: name for group, (_, name) in best.items()}


def summarize(
    experiment: Experiment, results: Mapping[str, Mapping[int, dict]], seeds: Sequence[int]
) -> Summary:
    """Aggregates the cells of `results` over `seeds` into table rows (groups: the best run)."""
    searched = list(seeds[: experiment.search_seeds])
    selected = select_groups(experiment, results, searched)
    scores = {
        r.name: selection_score(experiment, results[r.name], searched)
        for r in experiment.runs
        if r.group and r.name in results
    }
    rows: dict[str, dict[str, Cell]] = {}
    paper_rows: dict[str, str] = {}
    steps: set[int] = set()
    for row in experiment.rows():
        runs = [
            r
            for r in experiment.runs
            if (r.group == row and selected.get(row) == r.name) or (not r.group and r.row == row)
        ]
        shown = runs[0].row if runs and runs[0].group else row
        paper_rows[shown] = row
        cells: dict[str, Cell] = {}
        for run in runs:
            per_seed = [results.get(run.name, {}).get(s) for s in seeds]
            finished = [r for r in per_seed if r is not None]
            steps.update(int(r["step"]) for r in finished)
            for column in experiment.columns:
                values = [r["cells"][column.label] for r in finished if column.label in r["cells"]]
                if values:
                    cells[column.label] = mean_std(values)
        rows[shown] = cells
    seconds = sum(
        float(r.get("seconds", 0.0))
        for per_seed in results.values()
        for seed, r in per_seed.items()
        if seed in seeds
    )  # incl. unselected weights
    reused = sum(
        1
        for per_seed in results.values()
        for seed, r in per_seed.items()
        if seed in seeds and r.get("trained_in")
    )
    return Summary(rows, paper_rows, selected, scores, sorted(steps), seconds, reused)


def _format_cell(cell: Cell | None, percent: bool) -> str:
    if cell is None or cell.n == 0:
        return "–"
    scale, digits = (100.0, 1) if percent else (1.0, 3)
    text = f"{cell.mean * scale:.{digits}f}"
    return text if cell.n < 2 else f"{text} ± {cell.std * scale:.{digits}f}"


def _format_paper(value: float | None, percent: bool) -> str:
    return "–" if value is None else (f"{value:.2f}" if percent else f"{value:.4f}")


def markdown_table(experiment: Experiment, summary: Summary) -> str:
    """The table: per column our mean ± std, then the paper's number for the row ("–": none)."""
    header = ["Method"]
    for column in experiment.columns:
        header += [column.label, "paper"]
    header.append("seeds")
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    for shown, cells in summary.rows.items():
        paper = experiment.paper.get(summary.paper_rows[shown], {})
        row = [shown]
        for column in experiment.columns:
            row += [
                _format_cell(cells.get(column.label), column.percent),
                _format_paper(paper.get(column.label), column.percent),
            ]
        row.append(str(max((c.n for c in cells.values()), default=0)))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def few_shot_curves(experiment: Experiment, summary: Summary) -> dict[str, dict[int, tuple]]:
    """{row: {k: (mean, std over seeds)}} of the few-shot columns, for `plot_few_shot_curves`."""
    curves = {}
    for shown, cells in summary.rows.items():
        points = {
            c.k: (cells[c.label].mean, cells[c.label].std)
            for c in experiment.columns
            if c.k and c.label in cells
        }
        if points:
            curves[shown] = points
    return curves


def section_markdown(
    experiment: Experiment, summary: Summary, meta: Mapping[str, object], plot_link: str = ""
) -> str:
    """The generated block of one experiment: table, provenance and notes, plot link."""
    seeds = meta.get("seeds", [])
    steps = ", ".join(str(s) for s in summary.steps) or "–"
    lines = [markdown_table(experiment, summary), ""]
    paper = experiment.paper_name if experiment.paper else "no numbers for this setting"
    command = meta.get("command") or "tcc.experiments.runner.run_experiment"
    lines.append(
        f"Mean ± sample std (ddof=1) over seeds {seeds}; accuracies in %; {steps} training steps; "
        f"dataset(s) {', '.join(meta.get('datasets', []))}; paper: {paper}. Train + eval time "
        f"summed over runs {summary.seconds / 60:.1f} min. Generated "
        f"{datetime.date.today().isoformat()} by `{command}`."
    )
    if summary.reused:
        lines[-1] += (
            f" {summary.reused} of the runs evaluated a model trained by another experiment "
            "with the same training config and seed (`trained_in` in their "
            "`final_metrics.json`)."
        )
    for group, chosen in summary.selected.items():
        scores = ", ".join(
            f"{name} {score:.4f}"
            for name, score in summary.scores.items()
            if experiment.run(name).group == group
        )
        lines += [
            "",
            f"{group}: selected {chosen} on val (score = mean of "
            f"{', '.join(experiment.select_by)} over the search seed(s): {scores}).",
        ]
    if experiment.note:
        lines += ["", experiment.note]
    if plot_link:
        lines += ["", f"![{experiment.title}]({plot_link})"]
    return "\n".join(lines)


def _markers(section: str) -> tuple[str, str]:
    return f"<!-- experiment:{section} -->", f"<!-- /experiment:{section} -->"


def update_results_file(path: str, section: str, title: str, content: str) -> None:
    """Replaces the block between the markers of `section` in `path` (appends it if missing).

    The file is locked while it is rewritten (the lock file lives in the temporary directory, keyed
    by the absolute path) and replaced atomically, so runners of different experiments may finish
    at the same time.
    """
    begin, end = _markers(section)
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    key = hashlib.sha1(path.encode("utf-8")).hexdigest()[:16]
    with open(os.path.join(tempfile.gettempdir(), f"tcc_results_{key}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = "# Results\n"
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                text = f.read()
        block = f"{begin}\n{content}\n{end}"
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
        if pattern.search(text):
            text = pattern.sub(lambda _: block, text, count=1)
        else:
            text = text.rstrip("\n") + f"\n\n## {title}\n\n{block}\n"
        atomic.write_text(path, text)


def write_outputs(
    experiment: Experiment,
    summary: Summary,
    meta: Mapping[str, object],
    output_dir: str,
    results_file: str,
    tag: str = "",
) -> str:
    """Writes summary.json, the few-shot plot (if any) and the RESULTS.md section.

    Returns:
      The generated Markdown block.
    """
    from tcc.evaluation.plots import plot_few_shot_curves

    section = f"{experiment.name}:{tag}" if tag else experiment.name
    plot_link = ""
    curves = few_shot_curves(experiment, summary) if experiment.plot else {}
    if curves:
        name = section.replace(":", "_") + ".png"
        plot_few_shot_curves(
            curves,
            os.path.join(os.path.dirname(os.path.abspath(results_file)), "results", name),
            title=experiment.title,
        )
        plot_link = f"results/{name}"
    content = section_markdown(experiment, summary, meta, plot_link)
    update_results_file(
        results_file, section, experiment.title + (f" — {tag}" if tag else ""), content
    )
    data = {
        "rows": {
            r: {c: dataclasses.asdict(v) for c, v in cells.items()}
            for r, cells in summary.rows.items()
        },
        "selected": summary.selected,
        "scores": summary.scores,
        "steps": summary.steps,
        "seconds": summary.seconds,
        "reused": summary.reused,
        "meta": dict(meta),
    }
    atomic.write_json(os.path.join(output_dir, experiment.name, "summary.json"), data)
    return content
