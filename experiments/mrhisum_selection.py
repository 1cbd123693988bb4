"""Model selection on Mr.HiSum, the two ways side by side, each chosen checkpoint scored once on the test videos
(docs/mrhisum.md, "Model selection"):

    python experiments/mrhisum_selection.py EXP_DIR [--dataset_file H5] [--splits_file JSON] [--device auto]

- the CA-SUM way, without labels (docs/method.md, "Model selection"): per sigma, the epoch of lowest training loss
  from epoch 20 on (models/split0/selected_epoch{e}.pt), and its improvement |m(e) - m(-1)| / |sigma - m(-1)| over
  the untrained model (untrained_epoch-1.pt), m being the mean over the test videos of each video's mean score (the
  authors' transductive rule, on the test videos' scores only); the sigma of the largest improvement wins;
- Mr.HiSum's way, with the validation labels: for each of F1, mAP@50 and mAP@15, the epoch of best validation value
  over all sigmas (best_{metric}_epoch{e}.pt, from the runs' logs/split0/metrics.csv).

Prints the report and writes EXP_DIR/MrHiSum_best_models.json.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import csv
import hashlib

import numpy as np
from tqdm import tqdm

from common import fileio
from common.cli import DEVICES, bounded, description
from common.errors import UserError, run_cli
from common.h5data import VideoGroup, open_h5
from common.paths import default_dataset_file, default_splits_file
from common.splits import load_splits
from evaluation.experiment import sigma_folders
from evaluation.mrhisum import METRICS, evaluate_video, mean_metrics
from evaluation.scalars import read_loss_events
from evaluation.selection import improvement, select_epoch

DATASET = "MrHiSum"
NAMES = {"f_score": "F1", "map50": "mAP@50", "map15": "mAP@15", "tau": "Kendall's \u03c4", "rho": "Spearman's \u03c1"}


def checkpoint(folder: Path, kind: str, epoch: int | None = None) -> Path:
    """The run's {kind}_epoch{e}.pt (the one there is, when `epoch` is None)."""
    found = sorted(folder.glob(f"{kind}_epoch*.pt")) if epoch is None else [folder / f"{kind}_epoch{epoch}.pt"]
    if not found or not found[0].is_file():
        raise UserError(f"{folder}: no {found[0].name if found else kind + '_epoch*.pt'} (is the run finished? "
                        f"python model/main.py --video_type {DATASET} ... --resume)")
    return found[0]


def best_validation(log_dir: Path) -> dict[str, tuple[float, int]]:
    """{metric: (best validation value, its epoch)} from a run's metrics.csv, a later epoch winning a tie."""
    path = log_dir / "metrics.csv"
    rows = list(csv.DictReader(fileio.read_text(path, "metrics file").splitlines()))
    best = {}
    for row in rows:
        try:
            epoch = int(row["epoch"])
            values = {name: float(row[f"val_{name}"]) for name in ("f_score", "map50", "map15")}
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{path}: expected the columns epoch, loss, val_f_score, val_map50, val_map15, ...") \
                from None
        for name, value in values.items():
            if name not in best or value >= best[name][0]:
                best[name] = (value, epoch)
    if not best:
        raise UserError(f"{path}: no validation rows")
    return best


class TestScorer:
    """Scores checkpoints on the test videos, each file once."""

    def __init__(self, dataset_file: Path, keys: list[str], splits_file: Path, device, workers: int, block_size: int):
        from model.streaming import H5Videos, Reader  # PyTorch: imported once main() has checked the files

        self.device, self.block_size = device, block_size
        with open_h5(dataset_file) as h5:
            self.width = VideoGroup(h5, dataset_file, keys[0], splits_file).shape("features")[1]
        self.keys = keys
        self.reader = Reader(H5Videos(dataset_file, keys, self.width, splits_file, ground_truth=True), workers)
        self.done = {}

    def __call__(self, path: Path) -> dict:
        """{"mean_score": m, "metrics": {...}} of the checkpoint `path` on the test videos."""
        from model.checkpoints import load_model
        from model.streaming import scored

        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in self.done:
            model = load_model(path, self.device, self.block_size, input_size=self.width)
            per_video, means = {}, []
            videos = scored(model, self.reader, list(range(len(self.keys))), self.device)
            for key, scores, truth in tqdm(videos, total=len(self.keys), desc=path.name, unit="video", leave=False,
                                           disable=None):
                per_video[key] = evaluate_video(scores, truth)
                means.append(float(np.mean(scores)))
            self.done[digest] = {"mean_score": float(np.mean(means)), "metrics": mean_metrics(per_video)}
        return self.done[digest]


def metrics_text(metrics: dict) -> str:
    return "  ".join(f"{NAMES[name]} {metrics[name]:.2f}" if name == "f_score" else f"{NAMES[name]} {metrics[name]:.4f}"
                     for name in METRICS)


def select(exp_dir: Path, score: TestScorer) -> tuple[dict, list[str]]:
    """Both selections over the experiment's sigma runs: (report for the JSON, printed lines)."""
    sigmas = sigma_folders(exp_dir, DATASET)
    if not sigmas:
        raise UserError(f"{exp_dir}: no reg{{sigma}}/{DATASET}/ runs (train them with experiments/run_splits.py "
                        f"--video_type {DATASET})")
    runs = []
    for sigma in sigmas:
        base = Path(exp_dir) / f"reg{sigma}" / DATASET
        models, logs = base / "models" / "split0", base / "logs" / "split0"
        losses = [loss for _, _, loss in read_loss_events(logs)]
        epoch = select_epoch(losses)
        selected = score(checkpoint(models, "selected", epoch))
        untrained = score(checkpoint(models, "untrained", -1))
        runs.append({"sigma": sigma, "epoch": epoch, "models": models,
                     "improvement": improvement(untrained["mean_score"], selected["mean_score"], sigma),
                     "test": selected["metrics"], "validation": best_validation(logs)})
    values = np.array([run["improvement"] for run in runs])
    chosen = runs[int(np.argmax(values))]  # the first sigma on a tie, as in the authors' selection
    lines = [f"Mr.HiSum: {len(score.keys)} test videos, {len(runs)} sigmas ({', '.join(map(str, sigmas))})",
             "The CA-SUM way, no labels: per sigma the epoch of lowest training loss (from epoch 20 on) and its "
             "improvement over the untrained model"]
    lines += [f"  \u03c3={run['sigma']}: epoch {run['epoch']}, improvement {run['improvement']:.4f}" for run in runs]
    lines.append(f"  chosen \u03c3={chosen['sigma']}, epoch {chosen['epoch']}: test {metrics_text(chosen['test'])}")
    report = {"dataset": DATASET, "test_videos": len(score.keys),
              "casum": {"sigmas": [{"sigma": r["sigma"], "epoch": r["epoch"],
                                    "improvement": fileio.finite(r["improvement"])} for r in runs],
                        "sigma": chosen["sigma"], "epoch": chosen["epoch"], "test": finite_all(chosen["test"])},
              "validation": {}}
    lines.append("Mr.HiSum's way, with the validation labels: the epoch of best validation value of each metric, "
                 "over all sigmas")
    for name in ("f_score", "map50", "map15"):
        best = max(runs, key=lambda run: run["validation"][name][0])  # the first sigma on a tie
        value, epoch = best["validation"][name]
        test = score(checkpoint(best["models"], f"best_{name}", epoch))["metrics"]
        lines.append(f"  {NAMES[name]}: \u03c3={best['sigma']}, epoch {epoch} (validation {value:.4f}): "
                     f"test {metrics_text(test)}")
        report["validation"][name] = {"sigma": best["sigma"], "epoch": epoch, "validation": value,
                                      "test": finite_all(test)}
    return report, lines


def finite_all(metrics: dict) -> dict:
    """The metrics as JSON can hold them (None for an undefined correlation)."""
    return {name: fileio.finite(value) for name, value in metrics.items()}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python experiments/mrhisum_selection.py", description=description(__doc__))
    p.add_argument("exp_dir", type=Path, help="experiment folder holding reg{sigma}/MrHiSum/")
    p.add_argument("--dataset_file", type=Path, default=default_dataset_file(DATASET),
                   help="Mr.HiSum-layout h5 (default: data/MrHiSum/mr_hisum.h5)")
    p.add_argument("--splits_file", type=Path, default=default_splits_file(DATASET),
                   help="the split file with test_keys (default: data/MrHiSum/mr_hisum_split.json)")
    p.add_argument("--device", choices=DEVICES, default="auto", help="default: auto")
    p.add_argument("--workers", type=bounded(int, 0, what="workers"), default=1,
                   help="processes reading the videos ahead (default: 1)")
    p.add_argument("--block_size", type=bounded(int, 1, what="block_size"), default=60,
                   help="the block size the runs were trained with (default: 60)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    keys = load_splits(args.splits_file)[0]["test_keys"]
    if not Path(args.exp_dir).is_dir():
        raise UserError(f"{args.exp_dir}: experiment folder not found")
    open_h5(args.dataset_file).close()
    # PyTorch takes seconds to import, more on a busy machine: the files above are checked before it loads
    from model.device import numerics, resolve_device
    from model.streaming import check_videos

    check_videos(args.dataset_file, keys, None, args.splits_file, ground_truth=True)
    device = resolve_device(args.device)
    scorer = TestScorer(args.dataset_file, keys, args.splits_file, device, args.workers, args.block_size)
    with numerics(device):
        report, lines = select(Path(args.exp_dir), scorer)
    print("\n".join(lines))
    path = Path(args.exp_dir) / f"{DATASET}_best_models.json"
    fileio.write_json(path, report, indent=2)
    print(f"wrote {path}")


if __name__ == "__main__":
    run_cli(main)
