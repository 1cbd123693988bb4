"""The report of an experiment (docs/method.md, "Model selection"): the models chosen without ground truth and their
numbers, printed as the authors' script prints them and written as JSON; and, for a folder of seed experiments, every
number as mean ± standard deviation over the seeds.

Epochs are counted from 0 everywhere (checkpoint and score file names, the JSON, our own lines), except in the
authors' own printout, which this reproduces byte for byte: its `epoch:` is the training epoch + 1, and it says so.
"""
import math
from pathlib import Path

import numpy as np

from common import fileio
from common.errors import UserError
from evaluation.eval_data import read_scores
from evaluation.evaluation_metrics import get_corr_coeff, subsampled_length
from evaluation.experiment import (
    Grid,
    f_score_at,
    find_runs,
    read_f_scores,
    read_losses,
    run_improvement,
    seed_experiments,
)
from evaluation.selection import LAST_EPOCH, MAX_IMPROVEMENT, START_EPOCH, select_epoch

RULE = "=" * 84


def finite(value: float | None) -> float | None:
    """JSON has no NaN: an undefined value (0 / 0 improvement, the correlation of constant scores) becomes null."""
    return value if value is not None and math.isfinite(value) else None


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


def choose(grid: Grid, annotations=None, anno_path=None) -> tuple[dict, list[str]]:
    """The model selection of an experiment: (report dict as written to the JSON, printed lines).

    The lines reproduce the reference's report byte for byte (the improvement matrix, one line per split, the
    averages), preceded by our own notes and followed by the clearly labelled best-test-epoch block.
    """
    dataset = grid.dataset
    epochs, improvements, short_runs = epochs_and_improvements(grid)
    present = np.array([[(s, k) in grid.runs for k in range(grid.n_splits)] for s in grid.sigmas])
    # the first sigma on a tie; a missing run is never chosen (a NaN improvement of a run is, as in the reference)
    chosen = np.where(present, improvements, -np.inf).argmax(axis=0)
    correlated = annotations is not None
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
        f_path = run.results_dir / "f_scores.txt"
        f_scores = read_f_scores(f_path)
        f1 = np.round(f_score_at(f_scores, f_path, epoch), 2)
        f1s.append(f1)
        line = f"[Split: {split}] Fscore: {f1:.2f}"
        rho = tau = None
        if correlated:
            rho, tau = split_correlation(run.results_dir, dataset, epoch, annotations, anno_path)
            rhos.append(rho)
            taus.append(tau)
            line += f"  Spearman's \u03c1: {rho:.3f}  Kendall's \u03c4: {tau:.3f}"
        lines.append(line + f" [\u03c3={sigma}, epoch: {epoch + 1}]")
        best_epoch = int(np.argmax(f_scores[1:]))
        best_f1 = np.round(f_scores[best_epoch + 1], 2)
        best_f1s.append(best_f1)
        best_lines.append(f"[Split: {split}] Fscore: {best_f1:.2f} [\u03c3={sigma}, best test epoch: {best_epoch}]")
        splits.append({"split": split, "sigma": sigma, "epoch": epoch, "f_score": float(f1),
                       "rho": finite(None if rho is None else float(rho)),
                       "tau": finite(None if tau is None else float(tau)),
                       "best_epoch": best_epoch, "best_epoch_f_score": float(best_f1)})
    avg_f1, avg_best = np.round(np.mean(f1s), 2), np.round(np.mean(best_f1s), 2)
    if correlated:
        avg_rho, avg_tau = np.round(np.mean(rhos), 2), np.round(np.mean(taus), 2)
        lines += [RULE, f"Avg values :=> F1: {avg_f1}  Spearman's \u03c1: {avg_rho:.3f}  "
                        f"Kendall's \u03c4: {avg_tau:.3f}"]
    else:
        avg_rho = avg_tau = None
        lines.append(f"Avg values :=> F1: {avg_f1:.2f}")
    lines += ["", "Another protocol, NOT the paper's (it looks at the test labels): F1 of the best test epoch of the "
              "chosen \u03c3 (epochs from 0), as many other summarisation papers report it"] + best_lines
    lines.append(f"Avg values (best test epoch) :=> F1: {avg_best:.2f}")
    report = {"dataset": dataset, "correlation": correlated, "splits": splits, "f_score": float(avg_f1),
              "rho": None if avg_rho is None else finite(float(avg_rho)),
              "tau": None if avg_tau is None else finite(float(avg_tau)),
              "best_epoch_f_score": float(avg_best), "sigmas": grid.sigmas,
              "improvements": [[finite(v) for v in row] for row in improvements.tolist()],
              "missing_runs": [{"sigma": s, "split": k} for s, k in grid.missing]}
    return report, lines


def spread(values: list, digits: int) -> dict:
    """{"mean", "std", "seeds"} of one number over the seeds: mean and sample standard deviation (n - 1; null for
    one seed), rounded to the `digits` the table prints; null mean and std when a seed's value is undefined."""
    if any(v is None for v in values):
        return {"mean": None, "std": None, "seeds": values}
    std = round(float(np.std(values, ddof=1)), digits) if len(values) > 1 else None
    return {"mean": round(float(np.mean(values)), digits), "std": std, "seeds": values}


def spread_text(entry: dict, digits: int) -> str:
    """'45.12 ± 0.83 (seeds: 44.53, 45.70)'."""
    def number(v):
        return "n/a" if v is None else f"{v:.{digits}f}"
    return f"{number(entry['mean'])} \u00b1 {number(entry['std'])} (seeds: {', '.join(map(number, entry['seeds']))})"


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
    summary = {"dataset": dataset, "correlation": reports[0]["correlation"], "seeds": seeds, "splits": splits}
    text = "Avg values :=>"
    for key, name, digits in metrics:
        summary[key] = spread([report[key] for report in reports], digits)
        text += f" {'F1' if key == 'f_score' else name}: {spread_text(summary[key], digits)}"
    summary["best_epoch_f_score"] = spread([report["best_epoch_f_score"] for report in reports], 2)
    summary.setdefault("rho", None)
    summary.setdefault("tau", None)
    lines += [RULE, text, f"Avg values (best test epoch, NOT the paper's protocol) :=> F1: "
                          f"{spread_text(summary['best_epoch_f_score'], 2)}"]
    return summary, lines


def report_experiment(exp_dir: Path, dataset: str, n_splits: int, annotations=None, anno_path=None) -> dict:
    """Choose, print the report and write {exp_dir}/{dataset}_best_models.json; return the report dict. For a
    folder of seed experiments: each seed's report, then the summary over the seeds (the returned dict)."""
    seeds = seed_experiments(exp_dir)
    reports = []
    for seed, folder in seeds or [(None, Path(exp_dir))]:
        report, lines = choose(find_runs(folder, dataset, n_splits), annotations, anno_path)
        path = folder / f"{dataset}_best_models.json"
        fileio.write_json(path, report, indent=2)
        if seed is not None:
            print(f"== seed {seed}: {folder}")
        print("\n".join(lines))
        print(f"wrote {path}")
        reports.append(report)
    if not seeds:
        return reports[0]
    summary, lines = summarize_seeds(dataset, [seed for seed, _ in seeds], reports)
    path = Path(exp_dir) / f"{dataset}_best_models.json"
    fileio.write_json(path, summary, indent=2)
    print("\n" + "\n".join(lines))
    print(f"wrote {path}")
    return summary
