"""Model selection over a finished experiment, without ground truth (SPEC section 5), and the paper's table.

Usage: python evaluation/choose_best_model.py --exp_dir DIR --dataset SumMe|TVSum [--anno PATH]

Per sigma (0.5 .. 0.9) and split (0 .. 4): the epoch e* with the lowest training loss among epochs 20..399, and the
improvement |m(e*) - m(-1)| / |sigma - m(-1)| of the mean score m over the untrained model (set to 0 above 1.5).
Per split the sigma with the highest improvement wins; its F1 at e* (and on TVSum Spearman's rho and Kendall's tau
against the annotations) are printed exactly like the authors' script prints them, then averaged.

Below, clearly labelled as another protocol, the F1 of the best test epoch of the chosen sigma: it looks at the test
labels, so it is not a fair model selection, but many other summarisation papers report it.

The experiment folder needs, per sigma and split, logs/split{k}/scalars.csv (export_tensorboard_log.py),
results/split{k}/{Dataset}_{epoch}.json and f_scores.txt (compute_fscores.py). The choice is also written to
{exp_dir}/{Dataset}_best_models.json.

A folder that holds one experiment per seed instead (seed{S}/ folders, as `run_*_splits.sh --seeds` writes them) gets
each seed's report (printed, and written to seed{S}/{Dataset}_best_models.json), then every number of the table as
mean ± sample standard deviation over the seeds, next to each seed's value (written to
{exp_dir}/{Dataset}_best_models.json): the model selection is fragile, and only the spread over seeds shows how much.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402

import numpy as np  # noqa: E402

from evaluation.eval_data import read_scores  # noqa: E402
from evaluation.evaluation_metrics import get_corr_coeff, load_tvsum_annotations, subsampled_length  # noqa: E402
from model import fileio  # noqa: E402
from model.configs import REPO_ROOT, run_dirs  # noqa: E402
from model.errors import UserError, run_cli  # noqa: E402
from model.solver import LAST_EPOCH, START_EPOCH, selection_window  # noqa: E402

DATASETS = ("SumMe", "TVSum")
CORRELATION_DATASETS = ("TVSum",)
SIGMAS = [i / 10 for i in range(5, 10)]
N_SPLITS = 5
MAX_IMPROVEMENT = 1.5
RULE = "=" * 84
SEED_FOLDER = re.compile(r"seed(-?\d+)")


def run_folders(exp_dir, dataset):
    """{(sigma, split): (log_dir, results_dir)} of the experiment, with a clear error for a missing folder."""
    exp_dir = Path(exp_dir)
    if not exp_dir.is_dir():
        raise UserError(f"{exp_dir}: experiment folder not found")
    folders = {}
    for sigma in SIGMAS:
        base = exp_dir / f"reg{sigma}" / dataset
        if not base.is_dir():
            raise UserError(f"{base}: missing sigma folder (an experiment has reg0.5 .. reg0.9, each with {dataset}/)")
        for split in range(N_SPLITS):
            log_dir, results_dir, _ = run_dirs(exp_dir, sigma, dataset, split)
            for folder in (log_dir, results_dir):
                if not folder.is_dir():
                    raise UserError(f"{folder}: missing split folder (an experiment has splits 0 .. {N_SPLITS - 1})")
            folders[sigma, split] = (log_dir, results_dir)
    return folders


def read_losses(path):
    """The loss_epoch column of a scalars.csv, one value per epoch 0, 1, ..."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: not found (export it with evaluation/export_tensorboard_log.py)")
    try:
        rows = list(csv.reader(path.read_text().splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UserError(f"{path}: unreadable CSV ({e})") from None
    if not rows or "loss_epoch" not in rows[0]:
        raise UserError(f"{path}: no loss_epoch column")
    column, step = rows[0].index("loss_epoch"), rows[0].index("step") if "step" in rows[0] else None
    losses = []
    for line_no, row in enumerate(rows[1:], start=2):
        try:
            loss, logged_step = float(row[column]), None if step is None else float(row[step])
        except (IndexError, ValueError):
            raise UserError(f"{path}: line {line_no}: expected numbers in the step and loss_epoch columns") from None
        if not np.isfinite(loss):
            raise UserError(f"{path}: line {line_no}: loss_epoch is {row[column]}, not a finite number")
        if logged_step is not None and logged_step != len(losses):
            raise UserError(f"{path}: line {line_no}: step {row[step]}, expected {len(losses)} "
                            f"(one row per epoch 0, 1, ...)")
        losses.append(loss)
    if not losses:
        raise UserError(f"{path}: no loss_epoch values")
    return losses


def select_epoch(losses):
    """The first epoch with the lowest loss among epochs 20..399 (all epochs for a run of 20 epochs or fewer)."""
    window = selection_window(len(losses))
    return window[int(np.argmin(np.asarray(losses)[window.start:window.stop]))]


def mean_score(scores, keys):
    """Mean over the videos `keys` of each video's mean score."""
    return np.array([np.mean(scores[key]) for key in keys]).mean()


def improvement(results_dir, dataset, epoch, sigma):
    """|m(epoch) - m(-1)| / |sigma - m(-1)| over the videos of the epoch's score file (inf or NaN on 0 / 0)."""
    untrained_path = Path(results_dir) / f"{dataset}_-1.json"
    trained_path = Path(results_dir) / f"{dataset}_{epoch}.json"
    untrained, trained = read_scores(untrained_path), read_scores(trained_path)
    missing = [key for key in trained if key not in untrained]
    if missing:
        raise UserError(f"{untrained_path}: no scores for {missing[0]}, which {trained_path.name} has")
    m_untrained, m_trained = mean_score(untrained, trained), mean_score(trained, trained)
    with np.errstate(divide="ignore", invalid="ignore"):
        return abs(m_trained - m_untrained) / abs(sigma - m_untrained)


def read_f_scores(path):
    """The values of an f_scores.txt: one per line (epoch -1 first), or a JSON list as older tools wrote it."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: not found (compute it with evaluation/compute_fscores.py)")
    try:
        text = path.read_text().strip()
        values = text.splitlines() if "\n" in text else json.loads(text)
        f_scores = np.array([float(v) for v in (values if isinstance(values, list) else [values])])
    except (OSError, UnicodeDecodeError, ValueError, TypeError, RecursionError):
        raise UserError(f"{path}: expected one F-score per line") from None
    for line_no, value in enumerate(f_scores, start=1):
        if not 0 <= value <= 100:  # also refuses NaN
            raise UserError(f"{path}: line {line_no}: {value} is not an F-score (0 to 100)")
    return f_scores


def f_score_at(f_scores, path, epoch):
    """f_scores.txt value of training epoch `epoch` (line epoch + 2, after epoch -1)."""
    if len(f_scores) < epoch + 2:
        raise UserError(f"{path}: {len(f_scores)} values, but epoch {epoch} needs {epoch + 2} (epochs -1 .. {epoch})")
    return f_scores[epoch + 1]


def split_correlation(results_dir, dataset, epoch, annotations, anno_path):
    """Spearman's rho and Kendall's tau of the epoch's scores, mean over annotators, then over the test videos."""
    path = Path(results_dir) / f"{dataset}_{epoch}.json"
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


def default_annotation_file():
    """data/TVSum/ydata-anno.tsv, or the ydata-anno.rar it is distributed in when it has not been unpacked."""
    tsv = REPO_ROOT / "data" / "TVSum" / "ydata-anno.tsv"
    return tsv if tsv.is_file() else tsv.with_suffix(".rar")


def epochs_and_improvements(folders, dataset):
    """Per sigma (rows) and split (columns): the selected epoch e* and the improvement at e* (> 1.5 set to 0);
    plus the log folders of the runs too short for the 20..399 window."""
    epochs = np.zeros((len(SIGMAS), N_SPLITS), dtype=int)
    improvements = np.zeros((len(SIGMAS), N_SPLITS))
    short_runs = []
    for row, sigma in enumerate(SIGMAS):
        for split in range(N_SPLITS):
            log_dir, results_dir = folders[sigma, split]
            losses = read_losses(log_dir / "scalars.csv")
            if len(losses) <= START_EPOCH:
                short_runs.append(log_dir)
            epochs[row, split] = select_epoch(losses)
            improvements[row, split] = improvement(results_dir, dataset, epochs[row, split], sigma)
    return epochs, np.where(improvements > MAX_IMPROVEMENT, 0, improvements), short_runs


def choose(exp_dir, dataset, annotations=None, anno_path=None):
    """The model selection of an experiment: (report dict as written to the JSON, printed lines).

    The lines reproduce the reference's report byte for byte (the improvement matrix, one line per split, the
    averages), preceded by our own header and followed by the clearly labelled best-test-epoch block.
    """
    folders = run_folders(exp_dir, dataset)
    epochs, improvements, short_runs = epochs_and_improvements(folders, dataset)
    chosen = improvements.argmax(axis=0)  # the first sigma on a tie
    correlated = dataset in CORRELATION_DATASETS

    lines = [f"note: {len(short_runs)} of the {len(folders)} runs have {START_EPOCH} epochs or fewer (e.g. "
             f"{short_runs[0]}): their epoch is the argmin of the loss over all their epochs, where the protocol "
             f"takes epochs {START_EPOCH}..{LAST_EPOCH - 1}"] if short_runs else []
    lines += [f"Improvement over the untrained model (rows: \u03c3 = {', '.join(map(str, SIGMAS))}; "
              f"columns: splits 0..{N_SPLITS - 1}; values above {MAX_IMPROVEMENT} set to 0):",
              str(improvements)]
    splits, best_lines = [], []
    f1s, rhos, taus, best_f1s = (np.zeros(N_SPLITS) for _ in range(4))
    for split in range(N_SPLITS):
        sigma, epoch = SIGMAS[chosen[split]], int(epochs[chosen[split], split])
        _, results_dir = folders[sigma, split]
        f_path = results_dir / "f_scores.txt"
        f_scores = read_f_scores(f_path)
        f1s[split] = np.round(f_score_at(f_scores, f_path, epoch), 2)
        line = f"[Split: {split}] Fscore: {f1s[split]:.2f}"
        if correlated:
            rhos[split], taus[split] = split_correlation(results_dir, dataset, epoch, annotations, anno_path)
            line += f"  Spearman's \u03c1: {rhos[split]:.3f}  Kendall's \u03c4: {taus[split]:.3f}"
        lines.append(line + f" [\u03c3={sigma}, epoch: {epoch + 1}]")
        best_epoch = int(np.argmax(f_scores[1:]))
        best_f1s[split] = np.round(f_scores[best_epoch + 1], 2)
        best_lines.append(f"[Split: {split}] Fscore: {best_f1s[split]:.2f} [\u03c3={sigma}, best test epoch: "
                          f"{best_epoch} (0-based training epoch)]")
        splits.append({"split": split, "sigma": sigma, "epoch": epoch, "f_score": float(f1s[split]),
                       "rho": _finite(float(rhos[split])) if correlated else None,
                       "tau": _finite(float(taus[split])) if correlated else None,
                       "best_epoch": best_epoch, "best_epoch_f_score": float(best_f1s[split])})
    avg_f1, avg_best = np.round(np.mean(f1s), 2), np.round(np.mean(best_f1s), 2)
    if correlated:
        avg_rho, avg_tau = np.round(np.mean(rhos), 2), np.round(np.mean(taus), 2)
        lines += [RULE, f"Avg values :=> F1: {avg_f1}  Spearman's \u03c1: {avg_rho:.3f}  "
                        f"Kendall's \u03c4: {avg_tau:.3f}"]
    else:
        avg_rho = avg_tau = None
        lines.append(f"Avg values :=> F1: {avg_f1:.2f}")
    lines += ["", "Another protocol, NOT the paper's (it looks at the test labels): F1 of the best test epoch of the "
              "chosen \u03c3, as many other summarisation papers report it"] + best_lines
    lines.append(f"Avg values (best test epoch) :=> F1: {avg_best:.2f}")
    report = {"dataset": dataset, "splits": splits, "f_score": float(avg_f1),
              "rho": None if avg_rho is None else _finite(float(avg_rho)),
              "tau": None if avg_tau is None else _finite(float(avg_tau)),
              "best_epoch_f_score": float(avg_best),
              "improvements": [[_finite(v) for v in row] for row in improvements.tolist()]}
    return report, lines


def _finite(value):
    """JSON has no NaN: an undefined value (0 / 0 improvement) becomes null."""
    return value if math.isfinite(value) else None


def seed_experiments(exp_dir):
    """[(seed, folder)] by seed when `exp_dir` holds one experiment per seed (seed{S}/ folders and no reg0.5/);
    [] when it is a single experiment."""
    exp_dir = Path(exp_dir)
    if not exp_dir.is_dir() or (exp_dir / f"reg{SIGMAS[0]}").exists():
        return []
    matches = ((SEED_FOLDER.fullmatch(p.name), p) for p in exp_dir.iterdir() if p.is_dir())
    return sorted((int(m.group(1)), p) for m, p in matches if m)


def spread(values, digits):
    """{"mean", "std", "seeds"} of one number over the seeds: mean and sample standard deviation (n - 1; null for
    one seed), rounded to the `digits` the table prints; null mean and std when a seed's value is undefined."""
    if any(v is None for v in values):
        return {"mean": None, "std": None, "seeds": values}
    std = round(float(np.std(values, ddof=1)), digits) if len(values) > 1 else None
    return {"mean": round(float(np.mean(values)), digits), "std": std, "seeds": values}


def spread_text(entry, digits):
    """'45.12 ± 0.83 (seeds: 44.53, 45.70)'."""
    number = (lambda v: "n/a" if v is None else f"{v:.{digits}f}")
    return f"{number(entry['mean'])} \u00b1 {number(entry['std'])} (seeds: {', '.join(map(number, entry['seeds']))})"


def summarize_seeds(dataset, seeds, reports):
    """The seeds' reports side by side: (summary dict as written to the JSON, printed lines)."""
    metrics = [("f_score", "Fscore", 2)]
    if dataset in CORRELATION_DATASETS:
        metrics += [("rho", "Spearman's \u03c1", 3), ("tau", "Kendall's \u03c4", 3)]
    lines = [f"Over {len(seeds)} seeds ({', '.join(map(str, seeds))}): mean \u00b1 sample standard deviation, "
             f"then each seed's value"]
    splits = []
    for k in range(N_SPLITS):
        entries = [report["splits"][k] for report in reports]
        split = {"split": k, "sigma": [e["sigma"] for e in entries], "epoch": [e["epoch"] for e in entries],
                 "rho": None, "tau": None}
        text = f"[Split: {k}]"
        for key, name, digits in metrics:
            split[key] = spread([e[key] for e in entries], digits)
            text += f" {name}: {spread_text(split[key], digits)}"
        splits.append(split)
        lines.append(text)
    summary = {"dataset": dataset, "seeds": seeds, "splits": splits}
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


def choose_best_model(exp_dir, dataset, annotations=None, anno_path=None):
    """Choose, print the report and write {exp_dir}/{dataset}_best_models.json; return the report dict. For a
    folder of seed experiments: each seed's report, then the summary over the seeds (the returned dict)."""
    seeds = seed_experiments(exp_dir)
    reports = []
    for seed, folder in seeds or [(None, Path(exp_dir))]:
        report, lines = choose(folder, dataset, annotations, anno_path)
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


def load_annotations(dataset, anno):
    """(annotations, path) for a dataset with rank correlations, else (None, None)."""
    if dataset not in CORRELATION_DATASETS:
        return None, None
    path = Path(anno) if anno is not None else default_annotation_file()
    if anno is None and not path.is_file():
        raise UserError(f"{path.with_suffix('.tsv')}: TVSum annotations not found (nor ydata-anno.rar beside it); "
                        f"give their path with --anno")
    return load_tvsum_annotations(path), path


def build_parser():
    parser = argparse.ArgumentParser(prog="python evaluation/choose_best_model.py", description=__doc__.split("\n")[0])
    parser.add_argument("--exp_dir", type=Path, required=True,
                        help="experiment folder (holding reg0.5 .. reg0.9, or one such experiment per seed{S}/)")
    parser.add_argument("--dataset", choices=DATASETS, required=True, help="dataset of the experiment")
    parser.add_argument("--anno", type=Path, default=None,
                        help="TVSum annotations, ydata-anno.tsv or ydata-anno.rar "
                             "(default: data/TVSum/ydata-anno.tsv, else data/TVSum/ydata-anno.rar)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    annotations, anno_path = load_annotations(args.dataset, args.anno)
    choose_best_model(args.exp_dir, args.dataset, annotations, anno_path)


if __name__ == "__main__":
    run_cli(main)
