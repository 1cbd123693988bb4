"""The demo of the split scripts (`bash run_summe_splits.sh --demo`, `bash run_tvsum_splits.sh --demo`): a small
generated dataset of the script's dataset's shape (data/make_dataset.py), its whole grid trained for enough epochs
that the model selection works as in the paper (the lowest loss from epoch 20 on), evaluated, and explained."""
import shlex
from pathlib import Path

from common.paths import DEMO_EXP_DIR, REPO_ROOT
from common.splits import load_splits

EPOCHS = 30


def prepare(video_type: str, batch_size: int) -> tuple[list[str], Path | None, int]:
    """Generate the demo dataset once; (model/main.py arguments, TVSum annotations or None, batch size: the
    paper's, or the demo's training set when that is smaller)."""
    from data.make_dataset import DEMO, demo_files, make_demo
    h5, splits, anno = demo_files(video_type)
    if not all(path.is_file() for path in (h5, splits, anno) if path is not None):
        make_demo(video_type)
    n_train = min(len(split["train_keys"]) for split in load_splits(splits))
    args = ["--dataset_file", str(h5), "--splits_file", str(splits), "--exp_dir", str(DEMO_EXP_DIR),
            "--input_size", str(DEMO[video_type]["input_size"])]
    return args, anno, min(batch_size, n_train)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def epilogue(exp_dir: Path, video_type: str, dataset_args: list[str]) -> str:
    """What the demo printed, where its outputs are, and what to try next."""
    exp_dir = Path(exp_dir)
    checkpoints = list(exp_dir.glob(f"reg*/{video_type}/models/split*/*.pt"))
    h5 = Path(dataset_args[dataset_args.index("--dataset_file") + 1])

    def rel(path):
        path = Path(path)
        return shlex.quote(str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path))
    data = " ".join(f"{a} {rel(v)}" for a, v in zip(dataset_args[0:4:2], dataset_args[1:4:2]))
    script = f"run_{video_type.lower()}_splits.sh"
    return "\n".join([
        "",
        "What the demo printed (docs/method.md, \"Model selection\"):",
        "- the matrix: for each sigma (rows) and split (columns), how far training moved the test videos' mean score",
        "  from the untrained model's towards sigma, |m(e*) - m(-1)| / |sigma - m(-1)|, at the epoch e* of lowest",
        "  training loss from epoch 20 on; above 1.5 (overshot) it counts as 0;",
        "- per split, the sigma with the largest value and the F1 of its epoch e* (the paper's protocol, no test",
        "  labels used), then the F1 of the best test epoch (another protocol, which looks at the test labels).",
        "The data are random: the numbers say nothing about real videos.",
        "",
        f"Outputs: {rel(exp_dir)}/ ({folder_size(exp_dir) / 1e6:.0f} MB: every epoch's scores, TensorBoard logs, "
        f"{len(checkpoints)} checkpoints), the report {rel(exp_dir / f'{video_type}_best_models.json')}, and the "
        f"dataset {rel(h5.parent)}/ ({folder_size(h5.parent) / 1e6:.0f} MB).",
        "Next:",
        f"  tensorboard --logdir {rel(exp_dir)}                       # the losses of every run",
        f"  python inference/inference.py --dataset {video_type} --model_dir {rel(exp_dir)}/reg0.6 {data}",
        f"  python data/download.py datasets && bash {script}    # the paper's experiment (README)",
    ])
