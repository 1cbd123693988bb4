"""Any number of splits, end to end: a 3-split grid and the PoR authors' 50 SumMe splits trained (tiny), evaluated by
the chain, reported next to their baselines, pictured and logged into TensorBoard (docs/evaluation.md)."""
import json
import struct

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator

from data.make_dataset import make_dataset, make_splits
from evaluation import evaluate_experiment, report
from evaluation.scalars import EVALUATION_EVENTS
from experiments import run_splits
from model import main as train_main
from tests import plain_baselines as plain
from tests.conftest import dataset_file
from tests.helpers import report_table, run_main

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.slow]  # grids of 3 and 50 splits
SIGMAS = (0.5, 0.6, 0.7, 0.8, 0.9)


def train(h5, splits, exp, split, sigma):
    """One tiny run (2 epochs, 8-d features) in this process."""
    done = run_main(train_main.main, "--dataset_file", h5, "--splits_file", splits, "--exp_dir", exp, "--split_index",
                    split, "--reg_factor", sigma, "--input_size", 8, "--n_epochs", 2, "--batch_size", 20,
                    "--device", "cpu")
    assert done.returncode == 0, done.stderr


def chain(exp, h5, splits):
    done = run_main(evaluate_experiment.main, exp, "SumMe", "max", "--dataset_file", h5, "--splits_file", splits,
                    "--workers", 1)
    assert done.returncode == 0, done.stderr
    return done.stdout


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def scalars(log_dir):
    accumulator = event_accumulator.EventAccumulator(str(log_dir), size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()[event_accumulator.SCALARS]}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """25 SumMe-shaped videos of 900..1,800 frames (8-d features, 5 users)."""
    root = tmp_path_factory.mktemp("data")
    frames = list(np.random.default_rng(0).integers(900, 1801, 25))
    return make_dataset(root / "data.h5", frames, input_size=8, n_users=5), root


def check_report(exp, h5, splits_file, out, n_splits):
    """The report's baselines, PoR and rank correlations per split and overall, against the plain definitions on a
    few splits."""
    splits = json.loads(splits_file.read_text())
    result = json.loads((exp / "SumMe_best_models.json").read_text())
    assert [entry["split"] for entry in result["splits"]] == list(range(n_splits))
    table = report_table(out)
    for entry in result["splits"][:2] + result["splits"][-1:]:
        keys = splits[entry["split"]]["test_keys"]
        results = exp / f"reg{entry['sigma']}" / "SumMe" / "results" / f"split{entry['split']}"
        exact = float((results / "f_scores.txt").read_text().split()[entry["epoch"] + 1])
        assert abs(entry["random_f_score"] - plain.random_f_score(h5, keys, "max")) <= 1e-9
        assert abs(entry["human_f_score"] - plain.split_human_f_score(h5, keys, "max")) <= 1e-9
        assert entry["por"] == pytest.approx(exact / entry["random_f_score"] * 100, abs=1e-9)
        rho, tau = plain.plain_summary_correlation(results / f"SumMe_{entry['epoch']}.json", h5)
        if entry["rho"] is None:  # a video no user selected a frame of (every shot over the budget): no correlation
            assert np.isnan(rho) and np.isnan(tau) and entry["tau"] is None
        else:
            assert abs(entry["rho"] - rho) <= 1e-9 and abs(entry["tau"] - tau) <= 1e-9
        row = table[str(entry["split"])]
        assert (row["PoR"], row["random F1"], row["human F1"]) == (
            f"{entry['por']:.2f}", f"{entry['random_f_score']:.2f}", f"{entry['human_f_score']:.2f}")
    for key in ("random_f_score", "por", "human_f_score"):
        assert result[key] == pytest.approx(np.mean([entry[key] for entry in result["splits"]]), abs=1e-12)
    assert table["mean"]["PoR"] == f"{result['por']:.2f}"
    assert result["human_rho"] is None and "human \u03c1" not in table["mean"]
    return result


def test_three_splits(dataset, tmp_path, monkeypatch):
    h5, root = dataset
    splits = root / "splits3.json"
    splits.write_text(json.dumps(make_splits([f"video_{k}" for k in range(1, 26)], n_splits=3, seed=3)))
    exp = tmp_path / "exp"
    for split in range(3):
        for sigma in SIGMAS:
            train(h5, splits, exp, split, sigma)
    out = chain(exp, h5, splits)
    result = check_report(exp, h5, splits, out, 3)
    assert png_size(exp / "SumMe_curves.png") == (1320, 540)

    for split in range(3):
        for sigma in SIGMAS:
            logs = exp / f"reg{sigma}" / "SumMe" / "logs" / f"split{split}"
            f_scores = [float(v) for v in (logs.parent.parent / "results" / f"split{split}" / "f_scores.txt")
                        .read_text().split()]
            logged = scalars(logs)
            assert [step for step, _ in logged["loss_epoch"]] == [0, 1]
            assert logged["f_score"] == [(epoch, float(np.float32(f))) for epoch, f in enumerate(f_scores[1:])]
            entry = result["splits"][split]
            if sigma == entry["sigma"]:
                assert logged["rho"] == [(entry["epoch"], float(np.float32(entry["rho"])))]
                assert logged["tau"] == [(entry["epoch"], float(np.float32(entry["tau"])))]
            else:
                assert "rho" not in logged and "tau" not in logged

    # evaluated again: the cached baselines, the same files, no duplicated events
    before = {path: path.read_bytes() for path in exp.rglob("*") if path.is_file()}
    monkeypatch.setattr(report, "compute_baselines", lambda *args: pytest.fail("the baselines were computed again"))
    assert chain(exp, h5, splits) == out
    assert {path: path.read_bytes() for path in exp.rglob("*") if path.is_file()} == before
    assert len(scalars(exp / "reg0.5" / "SumMe" / "logs" / "split0")["f_score"]) == 2
    assert sorted(p.name for p in (exp / "reg0.5" / "SumMe" / "logs" / "split0").iterdir())[-2:] == \
        [EVALUATION_EVENTS, "scalars.csv"]


def test_fifty_splits(dataset, tmp_path, capsys):
    """The PoR authors' 50 SumMe splits: the grid the split script would train (250 runs), one sigma of it trained,
    evaluated and reported with the baselines of all 50 splits."""
    h5, _ = dataset
    splits = dataset_file("splits/summe_splits_50.json")
    exp = tmp_path / "exp"
    assert run_splits.main(["--video_type", "SumMe", "--print_grid", "--dataset_file", str(h5), "--splits_file",
                            str(splits), "--exp_dir", str(exp), "--input_size", "8"]) == 0
    commands = capsys.readouterr().out.splitlines()
    assert len(commands) == 250 and "--split_index 49 --video_type SumMe --reg_factor 0.9" in commands[-1]
    for split in range(50):
        train(h5, splits, exp, split, 0.6)
    out = chain(exp, h5, splits)
    assert "missing" not in out
    check_report(exp, h5, splits, out, 50)
    assert png_size(exp / "SumMe_curves.png") == (2200, 5400)
