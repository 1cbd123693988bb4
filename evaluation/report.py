"""The report of an experiment (docs/method.md, "Model selection"): the models chosen without ground truth and their
numbers, printed as the authors' script prints them and written as JSON; and, for a folder of seed experiments, every
number as mean ± standard deviation over the seeds.

Epochs are counted from 0 everywhere (checkpoint and score file names, the JSON, our own lines), except in the
authors' own printout, which this reproduces byte for byte: its `epoch:` is the training epoch + 1, and it says so.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import fileio
from common.datasets import DATASETS
from common.degenerate import random_dataset_warning
from common.errors import UserError, warn
from common.numbers import fixed
from common.splits import load_splits
from evaluation.baseline_cache import BASELINE_KEYS, BaselineCache, compute_baselines
from evaluation.baselines import PAPER_SEEDS
from evaluation.eval_data import EvalDataset, check_length, read_scores
from evaluation.evaluation_metrics import get_corr_coeff, subsampled_length, summary_corr_coeff
from evaluation.experiment import (
    Grid,
    f_score_at,
    find_runs,
    read_f_scores,
    read_losses,
    run_improvement,
    seed_experiments,
)
from evaluation.fscores import f_scores_path
from evaluation.protocol import output_name
from evaluation.selection import LAST_EPOCH, MAX_IMPROVEMENT, START_EPOCH, select_epoch

RULE = "=" * 84
SIGMA = "\u03c3"
CORRELATION_REFERENCES = {True: "the annotators' frame scores, per annotator (TVSum, the authors' definition)",
                          False: "the share of users selecting each sampled frame, user_summary.mean(0)[picks]"}


@dataclass
class ReportInputs:
    """What a report reads besides the experiment folder: the dataset h5 (the baselines, SumMe's rank correlation),
    the splits file (the number of splits, each split's test videos and their order), the F-scores' reduction,
    TVSum's annotations, the random summarizer's seeds, and the processes computing the baselines."""
    dataset_file: Path
    splits_file: Path
    eval_method: str
    annotations: dict | None = None
    anno_path: Path | None = None
    seeds: int = PAPER_SEEDS
    workers: int = 1


def split_correlation(results_dir, dataset, epoch, annotations, anno_path):
    """Spearman's rho and Kendall's tau of the epoch's scores, mean over annotators, then over the test videos."""
    path = results_dir / f"{dataset}_{epoch}.json"
    rhos, taus = [], []
    for key, scores in read_scores(path).items():
        if key not in annotations:
            raise UserError(f"{anno_path}: no annotations for {key} (listed in {path})")
        users = annotations[key]
        if subsampled_length(users.shape[1]) != len(scores):
            raise UserError(f"{anno_path}: {key} has {users.shape[1]} annotated frames, i.e. "
                            f"{subsampled_length(users.shape[1])} sub-sampled scores, but {path} has {len(scores)}: "
                            f"the annotation file does not match the dataset")
        rho, tau = get_corr_coeff(scores, users)
        rhos.append(rho)
        taus.append(tau)
    return np.array(rhos).mean(), np.array(taus).mean()


def split_summary_correlation(results_dir, dataset, epoch, data):
    """Spearman's rho and Kendall's tau of the epoch's scores against the mean user summary at the picks (the SumMe
    definition, docs/evaluation.md), mean over the test videos."""
    path = results_dir / f"{dataset}_{epoch}.json"
    rhos, taus = [], []
    for key, scores in read_scores(path).items():
        video = data.video(key, path)
        check_length(path, key, scores, video, data.path)
        try:
            rho, tau = summary_corr_coeff(scores, video.users, video.picks)
        except ValueError as e:
            raise UserError(f"{data.path}: {key}: {e}") from None
        rhos.append(rho)
        taus.append(tau)
    return np.array(rhos).mean(), np.array(taus).mean()


def epochs_and_improvements(grid: Grid):
    """Per sigma (rows) and split (columns): the selected epoch e* and the improvement at e* (> 1.5 set to 0; NaN
    where the run is missing); plus the log folders of the runs too short for the 20..399 window."""
    epochs = np.zeros((len(grid.sigmas), grid.n_splits), dtype=int)
    improvements = np.full((len(grid.sigmas), grid.n_splits), np.nan)
    short_runs = []
    for row, sigma in enumerate(grid.sigmas):
        for split in range(grid.n_splits):
            run = grid.runs.get((sigma, split))
            if run is None:
                continue
            losses = read_losses(run.log_dir / "scalars.csv")
            if len(losses) <= START_EPOCH:
                short_runs.append(run.log_dir)
            epochs[row, split] = select_epoch(losses)
            improvements[row, split] = run_improvement(run, grid.dataset, epochs[row, split])
    return epochs, improvements, short_runs


def mean_of(values: list) -> float | None:
    """The mean over the splits of a number, None when a split's value is undefined."""
    return None if not values or None in values else fileio.finite(float(np.mean(values)))


def choose(grid: Grid, annotations=None, anno_path=None, data: EvalDataset | None = None,
           baselines: list[dict] | None = None, seeds: int = PAPER_SEEDS,
           eval_method: str | None = None) -> tuple[dict, list[str]]:
    """The model selection of an experiment: (report dict as written to the JSON, printed lines).

    The lines reproduce the reference's report byte for byte (the improvement matrix, one line per split, the
    averages), preceded by our own notes and followed by the clearly labelled best-test-epoch block and the table
    next to the baselines. Rank correlations need TVSum's `annotations`, or for SumMe the dataset `data`; the
    random and human columns need the splits' `baselines` (baseline_cache.compute_baselines) of `seeds` seeds.
    The F-scores are those of `eval_method` (default: the dataset's in the paper), which the report records.
    """
    dataset = grid.dataset
    eval_method = eval_method or DATASETS[dataset].eval_method
    epochs, improvements, short_runs = epochs_and_improvements(grid)
    present = np.array([[(s, k) in grid.runs for k in range(grid.n_splits)] for s in grid.sigmas])
    # the first sigma on a tie; a missing run is never chosen (a NaN improvement of a run is, as in the reference)
    chosen = np.where(present, improvements, -np.inf).argmax(axis=0)
    per_annotator = DATASETS[dataset].annotations
    correlated = annotations is not None if per_annotator else data is not None
    splits_shown = grid.splits

    lines = [note for note in [grid.missing_note()] if note]
    if short_runs:
        lines.append(f"note: {len(short_runs)} of the {len(grid.runs)} runs have {START_EPOCH} epochs or fewer (e.g. "
                     f"{short_runs[0]}): their epoch is the argmin of the loss over all their epochs, where the "
                     f"protocol takes epochs {START_EPOCH}..{LAST_EPOCH - 1}")
    lines += ["The authors' report (its `epoch:` is the chosen training epoch + 1; everywhere else, epochs count from "
              "0 as in the file names):",
              f"Improvement over the untrained model (rows: \u03c3 = {', '.join(map(str, grid.sigmas))}; "
              f"columns: splits 0..{grid.n_splits - 1}; values above {MAX_IMPROVEMENT} set to 0):",
              str(improvements)]
    splits, best_lines = [], []
    f1s, rhos, taus, best_f1s = [], [], [], []
    for split in splits_shown:
        sigma, epoch = grid.sigmas[chosen[split]], int(epochs[chosen[split], split])
        run = grid.runs[sigma, split]
        f_path = f_scores_path(run.results_dir, dataset, eval_method)
        f_scores = read_f_scores(f_path)
        exact_f1 = float(f_score_at(f_scores, f_path, epoch))
        f1 = np.round(exact_f1, 2)
        f1s.append(f1)
        line = f"[Split: {split}] Fscore: {f1:.2f}"
        rho = tau = None
        if correlated:
            if per_annotator:
                rho, tau = split_correlation(run.results_dir, dataset, epoch, annotations, anno_path)
                line += f"  Spearman's \u03c1: {rho:.3f}  Kendall's \u03c4: {tau:.3f}"
            else:
                rho, tau = split_summary_correlation(run.results_dir, dataset, epoch, data)
            rhos.append(rho)
            taus.append(tau)
        lines.append(line + f" [\u03c3={sigma}, epoch: {epoch + 1}]")
        best_epoch = int(np.argmax(f_scores[1:]))
        best_f1 = np.round(f_scores[best_epoch + 1], 2)
        best_f1s.append(best_f1)
        best_lines.append(f"[Split: {split}] Fscore: {best_f1:.2f} [\u03c3={sigma}, best test epoch: {best_epoch}]")
        entry = {"split": split, "sigma": sigma, "epoch": epoch, "f_score": float(f1),
                 "rho": fileio.finite(None if rho is None else float(rho)),
                 "tau": fileio.finite(None if tau is None else float(tau)),
                 "best_epoch": best_epoch, "best_epoch_f_score": float(best_f1)}
        entry.update(dict.fromkeys(("random_f_score", "por") + BASELINE_KEYS[1:]))
        if baselines is not None:
            entry.update({name: baselines[split][name] for name in BASELINE_KEYS})
            random_f1 = entry["random_f_score"]
            entry["por"] = fileio.finite(exact_f1 / random_f1 * 100) if random_f1 else None
        splits.append(entry)
    avg_f1, avg_best = np.round(np.mean(f1s), 2), np.round(np.mean(best_f1s), 2)
    avg_rho = avg_tau = None
    if correlated:
        avg_rho, avg_tau = np.round(np.mean(rhos), 2), np.round(np.mean(taus), 2)
    if correlated and per_annotator:
        lines += [RULE, f"Avg values :=> F1: {avg_f1}  Spearman's \u03c1: {avg_rho:.3f}  "
                        f"Kendall's \u03c4: {avg_tau:.3f}"]
    else:
        lines.append(f"Avg values :=> F1: {avg_f1:.2f}")
    lines += ["", "Another protocol, NOT the paper's (it looks at the test labels): F1 of the best test epoch of the "
              "chosen \u03c3 (epochs from 0), as many other summarisation papers report it"] + best_lines
    lines.append(f"Avg values (best test epoch) :=> F1: {avg_best:.2f}")
    report = {"dataset": dataset, "eval_method": eval_method, "correlation": correlated, "splits": splits,
              "f_score": float(avg_f1),
              "rho": None if avg_rho is None else fileio.finite(float(avg_rho)),
              "tau": None if avg_tau is None else fileio.finite(float(avg_tau)),
              "best_epoch_f_score": float(avg_best), "sigmas": grid.sigmas,
              "improvements": [[fileio.finite(v) for v in row] for row in improvements.tolist()],
              "missing_runs": [{"sigma": s, "split": k} for s, k in grid.missing],
              "correlation_reference": CORRELATION_REFERENCES[per_annotator] if correlated else None,
              "random_seeds": seeds if baselines is not None else None}
    for name in ("random_f_score", "por") + BASELINE_KEYS[1:]:
        report[name] = mean_of([entry[name] for entry in splits])
    if baselines is not None:
        lines += [""] + baseline_table(report)
    return report, lines


def number(value: float | None, digits: int) -> str:
    """`value` with `digits` decimals (no "-0.000"), or n/a when it is undefined."""
    return "n/a" if value is None else fixed(value, digits)


def baseline_table(report: dict) -> list[str]:
    """The report next to its baselines, one row per split and the mean row, each column labelled with its
    protocol (docs/evaluation.md)."""
    columns = [("F1 paper", "f_score", 2), ("F1 best-ep", "best_epoch_f_score", 2), ("random F1", "random_f_score", 2),
               ("PoR", "por", 2), ("human F1", "human_f_score", 2)]
    if report["correlation"]:
        columns += [("\u03c1", "rho", 3), ("\u03c4", "tau", 3)]
    human_correlation = any(entry["human_rho"] is not None for entry in report["splits"])
    if human_correlation:
        columns += [("human \u03c1", "human_rho", 3), ("human \u03c4", "human_tau", 3)]
    lines = ["Next to the baselines (not in the authors' report; docs/evaluation.md):",
             "  epoch: the chosen training epoch, from 0. F1 paper: the loss-selected epoch of the chosen \u03c3, as "
             "above. F1 best-ep: the best test epoch of that \u03c3 (looks at the test labels).",
             f"  random F1: the PoR random summarizer (random frame scores, the same shots, knapsack and 15% budget; "
             f"mean of seeds 0..{report['random_seeds'] - 1}). PoR = F1 paper (unrounded) / random F1 x 100.",
             "  human F1: each annotator's summary against the other annotators', averaged (leave-one-out)."]
    if report["correlation"]:
        lines.append(f"  \u03c1, \u03c4: Spearman's and Kendall's (tau-b) rank correlation with "
                     f"{report['correlation_reference']}, mean over the test videos.")
    if human_correlation:
        lines.append("  human \u03c1, \u03c4: every two annotators with each other, averaged (a ceiling for \u03c1, "
                     "\u03c4).")
    lines.append(f"{'split':>5} {SIGMA:>4} {'epoch':>5}" + "".join(f" {name:>10}" for name, _, _ in columns))
    for entry in report["splits"]:
        lines.append(f"{entry['split']:>5} {entry['sigma']:>4} {entry['epoch']:>5}" +
                     "".join(f" {number(entry[key], digits):>10}" for _, key, digits in columns))
    # the F1 and rho/tau means are the authors' rounded averages, as in the JSON; the others are plain means
    mean_digits = {"f_score": 2, "best_epoch_f_score": 2, "rho": 2, "tau": 2}
    lines.append(f"{'mean':>5} {'':>4} {'':>5}" + "".join(f" {number(report[key], mean_digits.get(key, digits)):>10}"
                                                        for _, key, digits in columns))
    return lines


def spread(values: list, digits: int) -> dict:
    """{"mean", "std", "seeds"} of one number over the seeds: mean and sample standard deviation (n - 1; null for
    one seed), rounded to the `digits` the table prints; null mean and std when a seed's value is undefined."""
    if any(v is None for v in values):
        return {"mean": None, "std": None, "seeds": values}
    std = round(float(np.std(values, ddof=1)), digits) if len(values) > 1 else None
    return {"mean": round(float(np.mean(values)), digits), "std": std, "seeds": values}


def spread_text(entry: dict, digits: int) -> str:
    """'45.12 ± 0.83 (seeds: 44.53, 45.70)'."""
    seeds = ", ".join(number(v, digits) for v in entry["seeds"])
    return f"{number(entry['mean'], digits)} \u00b1 {number(entry['std'], digits)} (seeds: {seeds})"


def summarize_seeds(dataset: str, seeds: list[int], reports: list[dict]) -> tuple[dict, list[str]]:
    """The seeds' reports side by side: (summary dict as written to the JSON, printed lines)."""
    metrics = [("f_score", "Fscore", 2)]
    if reports[0]["correlation"]:
        metrics += [("rho", "Spearman's \u03c1", 3), ("tau", "Kendall's \u03c4", 3)]
    lines = [f"Over {len(seeds)} seeds ({', '.join(map(str, seeds))}): mean \u00b1 sample standard deviation, "
             f"then each seed's value"]
    splits = []
    if len({tuple(split["split"] for split in report["splits"]) for report in reports}) > 1:
        raise UserError(f"the seeds' experiments ({', '.join(map(str, seeds))}) have runs of different splits: "
                        f"finish them all first")
    for entries in zip(*(report["splits"] for report in reports)):
        split = {"split": entries[0]["split"], "sigma": [e["sigma"] for e in entries],
                 "epoch": [e["epoch"] for e in entries], "rho": None, "tau": None}
        text = f"[Split: {entries[0]['split']}]"
        for key, name, digits in metrics:
            split[key] = spread([e[key] for e in entries], digits)
            text += f" {name}: {spread_text(split[key], digits)}"
        splits.append(split)
        lines.append(text)
    summary = {"dataset": dataset, "eval_method": reports[0]["eval_method"], "correlation": reports[0]["correlation"],
               "seeds": seeds, "splits": splits}
    text = "Avg values :=>"
    for key, name, digits in metrics:
        summary[key] = spread([report[key] for report in reports], digits)
        text += f" {'F1' if key == 'f_score' else name}: {spread_text(summary[key], digits)}"
    summary["best_epoch_f_score"] = spread([report["best_epoch_f_score"] for report in reports], 2)
    summary.setdefault("rho", None)
    summary.setdefault("tau", None)
    lines += [RULE, text, f"Avg values (best test epoch, NOT the paper's protocol) :=> F1: "
                          f"{spread_text(summary['best_epoch_f_score'], 2)}"]
    lines += seed_baselines(summary, splits, reports)
    return summary, lines


def seed_baselines(summary: dict, splits: list[dict], reports: list[dict]) -> list[str]:
    """Add PoR over the seeds and the baselines (the same for every seed: they depend on the dataset and the splits
    only) to the seeds' summary and its splits; return the lines of the block that prints them."""
    def baseline_text(values):
        return "  ".join(f"{name}: {number(values[key], digits)}" for name, key, digits in
                         (("random F1", "random_f_score", 2), ("human F1", "human_f_score", 2),
                          ("human \u03c1", "human_rho", 3), ("human \u03c4", "human_tau", 3)))
    lines = ["", "Next to the baselines (docs/evaluation.md): PoR = F1 / random F1 x 100 over the seeds; random and "
                 "human F1 (and human \u03c1, \u03c4) are the same for every seed"]
    for k, split in enumerate(splits):
        entries = [report["splits"][k] for report in reports]
        split["por"] = spread([e["por"] for e in entries], 2)
        split.update({key: entries[0][key] for key in BASELINE_KEYS})
        lines.append(f"[Split: {split['split']}] PoR: {spread_text(split['por'], 2)}  {baseline_text(split)}")
    summary["por"] = spread([report["por"] for report in reports], 2)
    summary.update({key: reports[0][key] for key in BASELINE_KEYS})
    lines.append(f"Avg values :=> PoR: {spread_text(summary['por'], 2)}  {baseline_text(summary)}")
    return lines


def report_path(folder: Path, dataset: str, eval_method: str) -> Path:
    """{folder}/{dataset}_best_models.json, or {dataset}_best_models.{eval_method}.json for another reduction than
    the paper's (evaluation/protocol.py)."""
    return Path(folder) / output_name(f"{dataset}_best_models.json", dataset, eval_method)


def report_experiment(exp_dir: Path, dataset: str, inputs: ReportInputs) -> tuple[dict, list[tuple[Grid, dict]]]:
    """Choose, print the report and write it to report_path(exp_dir), next to the baselines of the splits (computed
    once per experiment, cached in {exp_dir}/{dataset}_baselines.json, which is written after the reports).

    Returns:
        (report dict, [(grid, report) of each experiment]): for a folder of seed experiments, the summary over the
        seeds and each seed's grid and report; otherwise the report and [(grid, report)].
    """
    splits = load_splits(inputs.splits_file)
    seeds = seed_experiments(exp_dir)
    grids = [(seed, folder, find_runs(folder, dataset, len(splits))) for seed, folder in seeds or [(None, exp_dir)]]
    meaningless = random_dataset_warning(inputs.dataset_file)  # said before the report, after it, and in the JSON
    if meaningless:
        warn(meaningless)
    anno_path = inputs.anno_path if inputs.annotations is not None else None
    cache = BaselineCache(exp_dir, dataset, inputs.dataset_file, inputs.splits_file, inputs.eval_method, anno_path,
                          inputs.seeds)
    baselines = cache.load(len(splits))
    computed = baselines is None
    if computed:
        baselines = compute_baselines(inputs.dataset_file, splits, inputs.splits_file, inputs.eval_method, inputs.seeds,
                                      inputs.annotations, anno_path, inputs.workers)
    chosen = []
    with EvalDataset(inputs.dataset_file) as data:
        for seed, folder, grid in grids:
            report, lines = choose(grid, inputs.annotations, inputs.anno_path, data, baselines, inputs.seeds,
                                   inputs.eval_method)
            report["warnings"] = [meaningless] if meaningless else []
            path = report_path(folder, dataset, inputs.eval_method)
            fileio.write_json(path, report, indent=2)
            if seed is not None:
                print(f"== seed {seed}: {folder}")
            print("\n".join(lines))
            print(f"wrote {path}")
            chosen.append((grid, report))
    summary = chosen[0][1]
    if seeds:
        summary, lines = summarize_seeds(dataset, [seed for seed, _ in seeds], [report for _, report in chosen])
        path = report_path(exp_dir, dataset, inputs.eval_method)
        fileio.write_json(path, summary, indent=2)
        print("\n" + "\n".join(lines))
        print(f"wrote {path}")
    if computed:  # after the reports: a report that fails leaves no new cache behind
        cache.save(baselines)
    if meaningless:
        warn(meaningless)
    return summary, chosen
