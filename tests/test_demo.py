"""The split scripts' --demo, shrunk to a few tiny runs: generated data of the dataset's shape, the grid, the
evaluation (with generated annotations for TVSum) and the explanation after the table."""
import json

import pytest

from data import make_dataset
from experiments import demo, run_splits
from tests.helpers import run_main

pytestmark = pytest.mark.slow  # whole grids of tiny runs


@pytest.fixture
def tiny_demo(tmp_path, monkeypatch):
    """The demo with 6 videos of 16-d features and one split, in tmp_path."""
    monkeypatch.setattr(make_dataset, "DEMO_DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(demo, "DEMO_EXP_DIR", tmp_path / "exp")
    monkeypatch.setitem(make_dataset.DEMO, "SumMe", {"kind": "summe", "videos": 6, "input_size": 16, "splits": 1})
    monkeypatch.setitem(make_dataset.DEMO, "TVSum", {"kind": "tvsum", "videos": 6, "input_size": 16, "splits": 1})
    monkeypatch.setitem(make_dataset.DEMO, "MrHiSum", {"kind": "mrhisum", "videos": 12, "input_size": 16,
                                                       "splits": 1})
    return tmp_path


@pytest.mark.parametrize("dataset", ["SumMe", "TVSum"])
def test_demo_trains_evaluates_and_explains(tiny_demo, dataset):
    done = run_main(run_splits.main, "--video_type", dataset, "--batch_size", 40, "--demo", "--n_epochs", 2,
                    "--threads", 1)
    assert done.returncode == 0, done.stderr
    report = json.loads((tiny_demo / "exp" / f"{dataset}_best_models.json").read_text())
    assert [split["split"] for split in report["splits"]] == [0]
    assert report["rho"] is not None and report["random_f_score"] is not None
    assert (report["human_rho"] is not None) == (dataset == "TVSum")  # the generated annotations reached it
    assert (tiny_demo / "data" / dataset / "demo_dataset.h5").is_file()
    assert "What the demo printed" in done.stdout and f"{tiny_demo / 'exp'}/ (" in done.stdout
    assert "10 checkpoints" in done.stdout  # 5 sigmas x (selected + last)
    assert f"python inference/inference.py --dataset {dataset} --model_dir {tiny_demo / 'exp'}/reg0.6" in done.stdout
    h5, splits = (tiny_demo / "data" / dataset / name for name in ("demo_dataset.h5", "demo_splits.json"))
    evaluation = (f"  bash evaluation/choose_best_model.sh {tiny_demo / 'exp'} {dataset} "
                  f"{'max' if dataset == 'SumMe' else 'avg'} --dataset_file {h5} --splits_file {splits}")
    assert evaluation in done.stdout.split("Next:")[1]  # the evaluation again, on the demo's own files


def test_the_demo_counts_only_its_own_dataset(tmp_path):
    """The TVSum demo's size leaves out the SumMe demo's runs in the same Summaries/demo/."""
    for name, size in (("reg0.6/SumMe/results/split0/SumMe_0.json", 1000), ("SumMe_best_models.json", 100),
                       ("reg0.6/TVSum/results/split0/TVSum_0.json", 30), ("TVSum_curves.png", 7)):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * size)
    assert (demo.experiment_size(tmp_path, "TVSum"), demo.experiment_size(tmp_path, "SumMe")) == (37, 1100)


def test_demo_batch_is_at_most_the_training_set(tiny_demo):
    args, anno, batch = demo.prepare("TVSum", 40)
    assert batch == 4 and anno.is_file() and args[args.index("--input_size") + 1] == "16"


def test_mrhisum_demo_selects_both_ways(tiny_demo):
    done = run_main(run_splits.main, "--video_type", "MrHiSum", "--demo", "--n_epochs", 2, "--threads", 1,
                    "--workers", 0)
    assert done.returncode == 0, done.stderr
    report = json.loads((tiny_demo / "exp" / "MrHiSum_best_models.json").read_text())
    assert [s["sigma"] for s in report["casum"]["sigmas"]] == [0.5, 0.6, 0.7, 0.8, 0.9]
    assert set(report["validation"]) == {"f_score", "map50", "map15"}
    assert "What the demo printed (docs/mrhisum.md" in done.stdout
    assert "python evaluation/mrhisum_eval.py --dataset_file" in done.stdout
