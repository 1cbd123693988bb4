"""Mr.HiSum: its metrics (against numbers computed by its own code, and against a plain re-statement), training on
its layout with validation, streaming, data-parallel training under torchrun, resume, the model selection, errors."""
import csv
import json
import os
import subprocess
import sys
import time
import weakref

import h5py
import numpy as np
import pytest
import torch

from common.errors import UserError
from common.h5data import VideoGroup, open_h5
from data.make_dataset import make_mrhisum, mrhisum_split
from evaluation import mrhisum_eval
from evaluation.mrhisum import evaluate_scores, evaluate_video, read_video
from evaluation.scalars import read_loss_events
from experiments import mrhisum_selection
from model import main as train_main
from tests import mrhisum_reference
from tests.golden_inputs import GOLDEN, mrhisum_h5, mrhisum_scores
from tests.helpers import REPO, assert_user_error, run_main

D = 16


@pytest.fixture(scope="module")
def golden_h5(tmp_path_factory):
    return mrhisum_h5(tmp_path_factory.mktemp("golden") / "mrhisum.h5")


@pytest.mark.numeric
def test_metrics_equal_those_of_mrhisums_own_code(golden_h5):
    """tests/golden/mrhisum.json: F1, mAP@50 and mAP@15 computed by Mr.HiSum's Solver.evaluate on these inputs (on a
    machine whose float32 exp was correctly rounded: evaluation/mrhisum.py's rule), on any CPU."""
    cases = json.loads((GOLDEN / "mrhisum.json").read_text())["cases"]
    assert [case["scores"] for case in cases] == ["random", "quantised", "narrow", "sigmoid"]
    with open_h5(golden_h5) as h5:
        for case in cases:
            ours = evaluate_scores(h5, golden_h5, mrhisum_scores(case["scores"], case["seed"]), "scores")["videos"]
            for key, theirs in case["videos"].items():
                for name, value in theirs.items():
                    assert ours[key][name] == pytest.approx(value, abs=1e-6), (case["scores"], key, name)


@pytest.mark.numeric
def test_float32_sums_are_torchs_on_every_cpu():
    """evaluation/torch_sum.py adds as torch's CPU reduction does: the same float32 bits for every length, from the
    scalar path (under 8 elements) to the cascade of levels (over 4,096), up to torch's parallel grain (beyond it the
    sum depends on the number of threads). CI runs this under torch's AVX2 kernels too."""
    from evaluation.torch_sum import float32_sum
    rng = np.random.default_rng(0)
    for n in [*range(1, 80), 127, 128, 129, 1000, 4095, 4096, 4097, 20000, 32767]:
        x = (rng.random(n) * 10.0 ** rng.uniform(-3, 3)).astype(np.float32)
        assert float32_sum(x) == torch.from_numpy(x).sum().item(), n


@pytest.mark.numeric
def test_clip_means_are_torchs_and_tied_clips_rank_by_position():
    from evaluation.mrhisum import clip_means, clip_softmax, top_labels
    rng = np.random.default_rng(1)
    for n in (1, 4, 5, 6, 9, 10, 333):
        x = (0.5 + 1e-6 * rng.random(n)).astype(np.float32)  # near-equal rows: every rounding shows
        theirs = [torch.mean(chunk.unsqueeze(0), dim=1).item() for chunk in torch.split(torch.from_numpy(x), 5)]
        assert clip_means(x).tolist() == theirs
    assert top_labels(np.float32([0.5, 0.7, 0.5, 0.5, 0.1]), 3) == [1, 1, 1, 0, 0]
    assert top_labels(np.float32([0.2, 0.5, 0.5, 0.5]), 2) == [0, 1, 1, 0]
    # each exp correctly rounded: float32 exp of 0.5000005 and 0.50000054 differ, as exp in float64 tells
    c = np.float32([0.5000004768371582, 0.500000536441803, 0.5000005960464478])
    assert clip_softmax(c).dtype == np.float32
    assert clip_softmax(c).tolist() == (np.exp(c.astype(np.float64)).astype(np.float32)
                                        / (np.float32(np.exp(c.astype(np.float64)).astype(np.float32).sum())
                                           + np.float32(1e-7))).tolist()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A generated set of 20 Mr.HiSum-layout videos (16-d features) and its split."""
    root = tmp_path_factory.mktemp("mrhisum")
    h5 = make_mrhisum(root / "data.h5", 20, D, seed=5)
    splits = root / "split.json"
    keys = [f"video_{i}" for i in range(1, 21)]
    splits.write_text(json.dumps(mrhisum_split(keys, seed=5)))
    return h5, splits


@pytest.mark.numeric
def test_metrics_equal_a_plain_restatement(data):
    h5_path, _ = data
    rng = np.random.default_rng(3)
    with h5py.File(h5_path) as h5:
        for key in h5:
            group = h5[key]
            gtscore, cps, gt_summary = group["gtscore"][()], group["change_points"][()], group["gt_summary"][()]
            video = read_video(VideoGroup(h5, h5_path, key))
            draw = rng.random(len(gtscore))
            for scores in (draw, np.round(draw * 4) / 4, np.clip(gtscore + 0.1 * (draw - 0.5), 0, 1)):
                scores = scores.astype(np.float32)
                ours = evaluate_video(scores, video)
                plain = mrhisum_reference.evaluate(scores, gtscore, cps, gt_summary)
                assert list(plain) == list(ours)
                for name, value in plain.items():
                    assert ours[name] == pytest.approx(value, abs=1e-6 if name[0] in "fm" else 1e-9), (key, name)


def test_eval_command_writes_per_video_and_mean_metrics(data, tmp_path):
    h5_path, _ = data
    with h5py.File(h5_path) as h5:
        scores = {key: np.random.default_rng(i).random(len(h5[key]["gtscore"])).tolist() for i, key in enumerate(h5)}
    scores["video_3"] = [0.5] * len(scores["video_3"])  # constant: no rank correlation
    path = tmp_path / "scores.json"
    path.write_text(json.dumps(scores))
    done = run_main(mrhisum_eval.main, "--dataset_file", h5_path, "--scores", path, "--json", tmp_path / "out.json")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out.json").read_text())
    assert list(report) == ["videos", "f_score", "map50", "map15", "tau", "rho"]
    assert list(report["videos"]) == list(scores) and report["videos"]["video_3"]["rho"] is None
    assert report["map50"] == pytest.approx(np.mean([v["map50"] for v in report["videos"].values()]), abs=1e-12)
    assert report["tau"] == pytest.approx(np.mean([v["tau"] for k, v in report["videos"].items() if k != "video_3"]))
    assert done.stdout.startswith(f"20 videos: F1 {report['f_score']:.2f}  mAP@50 {report['map50']:.4f}")
    path.write_text(json.dumps({"video_1": [0.5] * 3}))
    assert_user_error(run_main(mrhisum_eval.main, "--dataset_file", h5_path, "--scores", path),
                      f"{path}: video_1 has 3 scores, expected")


def train_args(data, exp, *extra):
    h5, splits = data
    return ["--video_type", "MrHiSum", "--dataset_file", h5, "--splits_file", splits, "--input_size", D,
            "--batch_size", 4, "--n_epochs", 4, "--device", "cpu", "--workers", 1, "--resume_every", 1,
            "--exp_dir", exp, *map(str, extra)]


def run_dir(exp, sigma=0.6):
    return exp / f"reg{sigma}" / "MrHiSum"


def outputs(exp):
    """(losses, metrics.csv rows, {checkpoint name: state_dict}) of a finished run."""
    run = run_dir(exp)
    losses = [loss for _, _, loss in read_loss_events(run / "logs" / "split0")]
    rows = list(csv.reader((run / "logs" / "split0" / "metrics.csv").read_text().splitlines()))
    checkpoints = {p.name: torch.load(p, weights_only=True) for p in sorted((run / "models" / "split0").glob("*.pt"))}
    return losses, rows, checkpoints


def launch(data, exp, nproc, *extra, **kwargs):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"] \
        if nproc else [sys.executable]
    return subprocess.Popen([*command, str(REPO / "model" / "main.py"), *map(str, train_args(data, exp, *extra))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"), **kwargs)


def trained(data, root, nproc):
    exp = root / "exp"
    process = launch(data, exp, nproc)
    try:
        out, err = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"no end after 300 s; it printed: {out}{err}")
    assert process.returncode == 0, err
    return exp, out


@pytest.fixture(scope="module")
def one_process(data, tmp_path_factory):
    return trained(data, tmp_path_factory.mktemp("one"), 0)


@pytest.fixture(scope="module")
def two_processes(data, tmp_path_factory):
    return trained(data, tmp_path_factory.mktemp("two"), 2)


def test_training_validates_every_epoch_into_metrics_csv(one_process):
    exp, out = one_process
    losses, rows, checkpoints = outputs(exp)
    assert rows[0] == ["epoch", "loss", "val_f_score", "val_map50", "val_map15", "val_tau", "val_rho"]
    assert [row[0] for row in rows[1:]] == ["0", "1", "2", "3"]
    assert [float(np.float32(row[1])) for row in rows[1:]] == losses  # TensorBoard keeps float32
    assert all(0 <= float(row[2]) <= 100 and 0 <= float(row[3]) <= 1 for row in rows[1:])
    names = set(checkpoints)
    assert {"untrained_epoch-1.pt", "last_epoch3.pt"} <= names
    assert {n.split("_epoch")[0] for n in names} == {"untrained", "last", "selected", "best_f_score", "best_map50",
                                                     "best_map15"}
    assert not list((run_dir(exp) / "results").rglob("*.json"))  # score files are off for Mr.HiSum


def test_validation_metrics_are_those_of_the_checkpoint(data, one_process):
    """The best-mAP@50 checkpoint, scored again on the validation videos, gives the metrics.csv row of its epoch."""
    from model.checkpoints import load_model
    exp, _ = one_process
    h5_path, splits = data
    (name,) = [p.name for p in (run_dir(exp) / "models" / "split0").glob("best_map50_epoch*.pt")]
    epoch = int(name[len("best_map50_epoch"):-3])
    model = load_model(run_dir(exp) / "models" / "split0" / name)
    val = json.loads(splits.read_text())["val_keys"]
    with open_h5(h5_path) as h5, torch.no_grad():
        scores = {key: model(torch.from_numpy(h5[key]["features"][()]))[0][0].numpy() for key in val}
        report = evaluate_scores(h5, h5_path, scores, splits)
    row = [r for r in outputs(exp)[1][1:] if r[0] == str(epoch)][0]
    assert [report[k] for k in ("f_score", "map50", "map15")] == pytest.approx([float(v) for v in row[2:5]], abs=1e-9)


@pytest.mark.slow
def test_two_processes_under_torchrun_train_the_numbers_of_one(one_process, two_processes):
    (exp, _), (exp_2, out) = one_process, two_processes
    assert "on 2 processes" in out
    (losses, rows, checkpoints), (losses_1, rows_1, checkpoints_1) = outputs(exp_2), outputs(exp)
    np.testing.assert_allclose(losses, losses_1, atol=1e-5, rtol=0)
    np.testing.assert_allclose(np.array(rows[1:], dtype=float), np.array(rows_1[1:], dtype=float), atol=1e-5, rtol=0)
    assert set(checkpoints) == set(checkpoints_1)
    for name, state in checkpoints.items():
        for key, value in state.items():
            torch.testing.assert_close(value, checkpoints_1[name][key], atol=1e-5, rtol=0)


@pytest.mark.slow
def test_resume_under_torchrun(data, two_processes, tmp_path):
    exp = tmp_path / "killed"
    marker = run_dir(exp) / "models" / "split0" / "resume.pt"
    process = launch(data, exp, 2)
    while not marker.exists() and process.poll() is None:
        time.sleep(0.01)
    # torchrun starts its workers in sessions of their own: kill every process of this run, as a node failure would
    subprocess.run(["pkill", "-KILL", "-f", str(exp)])
    process.communicate()
    assert marker.exists() and not (run_dir(exp) / "models" / "split0" / "last_epoch3.pt").exists()
    resumed = launch(data, exp, 2, "--resume")
    out, err = resumed.communicate()
    assert resumed.returncode == 0, err
    assert any(f"resuming after epoch {e}\n" in out for e in range(3))
    (losses, rows, checkpoints), (losses_w, rows_w, checkpoints_w) = outputs(exp), outputs(two_processes[0])
    assert losses == losses_w and rows == rows_w and set(checkpoints) == set(checkpoints_w)
    assert all(torch.equal(v, checkpoints_w[n][k]) for n, state in checkpoints.items() for k, v in state.items())


def test_streaming_keeps_a_bounded_number_of_videos(data, tmp_path, monkeypatch):
    """An epoch over the videos holds a few at a time, not the dataset."""
    from model.streaming import Reader
    alive, peak = [0], [0]

    def counted(self, indices):
        for item in real(self, indices):
            alive[0] += 1
            peak[0] = max(peak[0], alive[0])
            weakref.finalize(item[1], lambda: alive.__setitem__(0, alive[0] - 1))
            yield item
    real = Reader.__call__
    monkeypatch.setattr(Reader, "__call__", counted)
    done = run_main(train_main.main, *train_args(data, tmp_path / "exp", "--n_epochs", 1, "--workers", 0,
                                                 "--batch_size", 8))
    assert done.returncode == 0, done.stderr
    assert peak[0] <= 2  # the video being trained (and, at most, the next one)


@pytest.mark.slow
def test_selection_side_by_side(data, tmp_path):
    exp = tmp_path / "exp"
    for sigma in (0.5, 0.8):
        assert run_main(train_main.main,
                        *train_args(data, exp, "--reg_factor", sigma, "--n_epochs", 2, "--workers", 0,
                                    "--resume_every", 10)).returncode == 0
    h5, splits = data
    done = run_main(mrhisum_selection.main, exp, "--dataset_file", h5, "--splits_file", splits,
                      "--device", "cpu", "--workers", 0)
    assert done.returncode == 0, done.stderr
    report = json.loads((exp / "MrHiSum_best_models.json").read_text())
    assert [s["sigma"] for s in report["casum"]["sigmas"]] == [0.5, 0.8]
    assert report["casum"]["sigma"] in (0.5, 0.8) and set(report["validation"]) == {"f_score", "map50", "map15"}
    assert report["test_videos"] == len(json.loads(splits.read_text())["test_keys"])
    assert "The CA-SUM way, no labels" in done.stdout and "Mr.HiSum's way, with the validation labels" in done.stdout


def test_bad_inputs_are_one_line(data, tmp_path):
    h5, splits = data
    split = json.loads(splits.read_text())
    paper_like = tmp_path / "list.json"
    paper_like.write_text(json.dumps([{"train_keys": split["train_keys"], "test_keys": split["test_keys"]}]))
    done = run_main(train_main.main, *train_args((h5, paper_like), tmp_path / "exp"))
    assert done.returncode == 2 and f"{paper_like} has no val_keys" in done.stderr
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"train_keys": split["train_keys"], "val_keys": "video_1", "test_keys": ["video_2"]}))
    assert_user_error(run_main(train_main.main, *train_args((h5, wrong), tmp_path / "exp")),
                      f"{wrong}: split 0: val_keys must be a non-empty list of video names")
    broken = tmp_path / "broken.h5"
    broken.write_bytes(h5.read_bytes())
    with h5py.File(broken, "r+") as f:
        del f[split["val_keys"][0]]["gt_summary"]
        del f[split["train_keys"][1]]["features"]
        f[split["train_keys"][1]]["features"] = np.zeros((50, D + 1), np.float32)
    assert_user_error(run_main(train_main.main, *train_args((broken, splits), tmp_path / "exp")),
                      f"{broken}: {split['train_keys'][1]}/features: shape (50, {D + 1}), expected [n_steps, {D}]")
    with h5py.File(broken, "r+") as f:
        del f[split["train_keys"][1]]["features"]
        f[split["train_keys"][1]]["features"] = np.zeros((50, D), np.float32)
    assert_user_error(run_main(train_main.main, *train_args((broken, splits), tmp_path / "exp")),
                      f"{broken}: {split['val_keys'][0]}: no 'gt_summary' dataset")
    with open_h5(broken) as f, pytest.raises(UserError, match="no 'gt_summary' dataset"):
        read_video(VideoGroup(f, broken, split["val_keys"][0]))
