"""The inputs of the golden vectors (tests/golden/README.md), rebuilt with numpy: model weights, frame features,
score vectors and a finished experiment tree. The golden tests prove these are the inputs the reference saw."""
import json
from pathlib import Path

import numpy as np

from common.datasets import SIGMAS
from data.make_dataset import TVSUM_FRAMES

GOLDEN = Path(__file__).resolve().parent / "golden"


def param_shapes(D: int, H: int) -> list[tuple[str, tuple[int, ...]]]:
    """The CA-SUM state_dict keys in registration order with their shapes (D = input_size, H = output_size)."""
    return [("attention.Wk.weight", (H, D)), ("attention.Wq.weight", (H, D)), ("attention.Wv.weight", (H, D)),
            ("attention.out.weight", (D, H + 2)), ("linear_1.weight", (D, D)), ("linear_1.bias", (D,)),
            ("linear_2.weight", (1, D)), ("linear_2.bias", (1,)), ("norm_y.weight", (D,)), ("norm_y.bias", (D,)),
            ("norm_linear.weight", (D,)), ("norm_linear.bias", (D,))]


def weights(D: int, H: int, seed: int) -> dict[str, np.ndarray]:
    """float32 weights keyed like the state_dict: LayerNorm scales near 1, biases near 0, matrices scaled by
    1 / sqrt(fan_in); drawn in key order from one generator."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in param_shapes(D, H):
        draw = rng.standard_normal(shape)
        if name.startswith("norm") and name.endswith("weight"):
            value = 1.0 + 0.1 * draw
        elif name.endswith("bias"):
            value = 0.1 * draw
        else:
            value = draw / np.sqrt(shape[1])
        out[name] = value.astype(np.float32)
    return out


def features(T: int, D: int, seed: int) -> np.ndarray:
    """Non-negative float32 frame features [T, D]: |N(0, 1)|."""
    return np.abs(np.random.default_rng(seed).standard_normal((T, D))).astype(np.float32)


def scores(n: int, seed: int, ties: bool = False) -> np.ndarray:
    """float32 scores in [0, 1); with `ties`, rounded to quarters (5 distinct values)."""
    values = np.random.default_rng(seed).random(n)
    return (np.round(values * 4) / 4 if ties else values).astype(np.float32)


def tvsum_lengths() -> dict[str, int]:
    """Scores per TVSum video (ceil(n_frames / 15)), for the golden experiment tree."""
    return {f"video_{k}": -(-n // 15) for k, n in enumerate(TVSUM_FRAMES, start=1)}


def build_experiment_tree(exp_dir: Path, dataset: str, splits: list[dict], lengths: dict[str, int], n_epochs: int,
                          seed: int) -> Path:
    """A finished experiment in the training layout with made-up numbers, one generator for all of it: per sigma and
    split, logs/split{k}/scalars.csv (a decaying loss), results/split{k}/f_scores.txt (n_epochs + 1 values) and
    {dataset}_{e}.json for e = -1 .. n_epochs - 1 (mean scores drifting from a base towards sigma)."""
    rng = np.random.default_rng(seed)
    for sigma in SIGMAS:
        for k, split in enumerate(splits):
            run = Path(exp_dir) / f"reg{sigma}" / dataset
            logs, results = run / "logs" / f"split{k}", run / "results" / f"split{k}"
            logs.mkdir(parents=True, exist_ok=True)
            results.mkdir(parents=True, exist_ok=True)
            epochs = np.arange(n_epochs)
            loss = 0.3 * np.exp(-epochs / 8.0) + 0.02 * rng.random(n_epochs)
            (logs / "scalars.csv").write_text("wall_time,step,loss_epoch\n" + "".join(
                f"{1700000000.0 + e},{e},{float(np.float32(value))!r}\n" for e, value in enumerate(loss)))
            f_scores = 30 + 30 * rng.random(n_epochs + 1)
            (results / "f_scores.txt").write_text("".join(f"{float(v)!r}\n" for v in f_scores))
            base = 0.4 + 0.2 * rng.random()
            for e in range(-1, n_epochs):
                if e < 0:
                    target = base
                else:
                    target = sigma + (base - sigma) * np.exp(-(e + 1) / 6.0) + 0.05 * (rng.random() - 0.5)
                out = {key: [float(np.float32(v)) for v in
                             np.clip(target + 0.1 * (rng.random(lengths[key]) - 0.5), 0, 1)]
                       for key in split["test_keys"]}
                (results / f"{dataset}_{e}.json").write_text(json.dumps(out))
    return Path(exp_dir)


def golden(name: str):
    """A golden JSON file of tests/golden/."""
    return json.loads((GOLDEN / name).read_text())


MRHISUM_LENGTHS = [3, 20, 29, 37, 64, 99, 151, 203, 257, 300, 361, 480]  # rows (seconds) of the golden videos


def mrhisum_h5(path: Path) -> Path:
    """The Mr.HiSum-layout h5 of tests/golden/mrhisum.json: videos of MRHISUM_LENGTHS rows made by
    data/make_dataset.py (seed 2023, 2-d features), the 5th with a zero-length shot (a repeated boundary), and
    gt_summary the 15% knapsack summary of gtscore."""
    import h5py

    from data.make_dataset import make_mrhisum_video
    from evaluation.mrhisum import MrHiSumVideo, predicted_summary
    rng = np.random.default_rng(2023)
    with h5py.File(path, "w") as h5:
        for i, n_rows in enumerate(MRHISUM_LENGTHS, start=1):
            group = h5.create_group(f"video_{i}")
            make_mrhisum_video(group, n_rows, 2, rng)
            if i == 5:
                cps = group["change_points"][()]
                cps = np.insert(cps, 2, [cps[2, 0], cps[2, 0]], axis=0)
                gtscore = group["gtscore"][()]
                video = MrHiSumVideo("", n_rows, cps, gtscore.astype(np.float32), np.zeros(0, np.int64), [], [])
                del group["change_points"], group["gt_summary"]
                group["change_points"] = cps
                group["gt_summary"] = predicted_summary(gtscore, video).astype(np.float32)
    return Path(path)


def mrhisum_scores(kind: str, seed: int) -> dict[str, np.ndarray]:
    """Per-row float32 scores of the golden videos: random, quantised to tenths (ties), narrow (within 1e-6 of
    0.5: float32 near-ties) or sigmoid-like near 0.98 (what an untrained CA-SUM gives)."""
    rng = np.random.default_rng(seed)
    out = {}
    for i, n_rows in enumerate(MRHISUM_LENGTHS, start=1):
        draw = rng.random(n_rows)
        values = {"random": draw, "quantised": np.round(draw * 10) / 10, "narrow": 0.5 + 1e-6 * draw,
                  "sigmoid": 1 / (1 + np.exp(-(4 + 0.01 * (draw - 0.5))))}[kind]
        out[f"video_{i}"] = values.astype(np.float32)
    return out
