"""Training through model/main.py: the reference's losses and scores, checkpoints, and the layout of a run."""
import contextlib
import io
import json

import numpy as np
import pytest
import torch

from evaluation.scalars import read_loss_events
from model.checkpoints import load_model
from model.configs import run_dirs
from tests.golden_inputs import GOLDEN
from tests.helpers import run_script

pytestmark = pytest.mark.numeric  # compared with golden numbers: CI runs them under the AVX2 kernels too


@pytest.fixture(scope="module")
def golden_run(golden, tmp_path_factory):
    """The run of golden/train.json, trained once through the command line."""
    case = golden("train.json")[0]
    exp_dir = tmp_path_factory.mktemp("exp")
    args = [f"--{k}={v}" for k, v in case["args"].items()]
    result = run_script("model/main.py", f"--dataset_file={GOLDEN / case['dataset_file']}",
                        f"--splits_file={GOLDEN / case['splits_file']}", f"--video_type={case['video_type']}",
                        f"--exp_dir={exp_dir}", "--device=cpu", *args)
    assert result.returncode == 0, result.stderr
    dirs = run_dirs(exp_dir, case["args"]["reg_factor"], case["video_type"], case["args"]["split_index"])
    return case, dirs


def test_losses_match_reference(golden_run):
    case, (log_dir, _, _) = golden_run
    steps, losses = zip(*[(step, loss) for _, step, loss in read_loss_events(log_dir)])
    assert list(steps) == list(range(case["args"]["n_epochs"]))
    np.testing.assert_allclose(losses, case["loss_epoch"], atol=1e-5, rtol=0)


def test_scores_of_every_epoch_match_reference(golden_run):
    case, (_, score_dir, _) = golden_run
    names = sorted(p.name for p in score_dir.glob("*.json"))
    assert names == sorted(f"{case['video_type']}_{e}.json" for e in case["scores"])
    for epoch, expected in case["scores"].items():
        scores = json.loads((score_dir / f"{case['video_type']}_{epoch}.json").read_text())
        assert list(scores) == list(expected)
        for key, values in expected.items():
            np.testing.assert_allclose(scores[key], values, atol=1e-5, rtol=0)


def test_checkpoints_name_their_epoch_and_score_like_training(golden_run):
    case, (_, score_dir, save_dir) = golden_run
    losses = np.float32(case["loss_epoch"])
    n = case["args"]["n_epochs"]
    assert n <= 20  # a short run: the selection window is every epoch
    selected = int(np.argmin(losses))
    expected = {f"selected_epoch{selected}.pt", f"last_epoch{n - 1}.pt"}
    assert sorted(p.name for p in save_dir.iterdir()) == sorted(expected)
    model = load_model(save_dir / f"last_epoch{n - 1}.pt", input_size=case["args"]["input_size"])
    last = json.loads((score_dir / f"{case['video_type']}_{n - 1}.json").read_text())
    import h5py
    with h5py.File(GOLDEN / case["dataset_file"]) as h5:
        for key, values in last.items():
            x = torch.from_numpy(h5[key]["features"][()])
            with torch.no_grad():
                assert model(x)[0][0].tolist() == values
            np.testing.assert_allclose(model.score_frames(x).numpy(), values, atol=1e-5)


def test_dissimilarities_beyond_the_cache_limit_are_recomputed_with_the_same_result(monkeypatch):
    from model import solver as solver_module
    from model.configs import get_config
    from model.data_loader import VideoData

    argv = [f"--dataset_file={GOLDEN / 'train0_summe.h5'}", f"--splits_file={GOLDEN / 'train0_summe_splits.json'}",
            "--input_size=64", "--batch_size=3", "--device=cpu"]
    config = get_config(argv)
    data = [VideoData(config.dataset_file, config.split[k], 64) for k in ("train_keys", "test_keys")]
    first = data[0].features[0].shape[0] ** 2 * 4
    results = []
    for limit in (2 ** 28, first):  # every matrix kept; only the first training video's
        monkeypatch.setattr(solver_module, "DISSIMILARITY_CACHE_BYTES", limit)
        solver = solver_module.Solver(config, *data)
        kept = [div_out is not None for _, div_out in solver.train_inputs]
        results.append((float(solver.train_epoch(0)), kept))
    (loss_all, kept_all), (loss_one, kept_one) = results
    assert all(kept_all) and kept_one == [True] + [False] * (len(kept_one) - 1)
    assert loss_all == loss_one


def test_fast_dropout_trains_the_same_numbers_as_torch_dropout():
    """Training with the numpy dropout masks (model/fast_dropout.py) and with the network's plain nn.Dropout gives
    the same losses, weights and random state after an epoch, bit for bit."""
    from model.configs import get_config
    from model.data_loader import VideoData
    from model.fast_dropout import FastDropout, numpy_matches_torch
    from model.solver import Solver

    if not numpy_matches_torch():
        pytest.skip("this torch build draws bernoulli numbers otherwise: FastDropout would be torch's dropout")
    config = get_config([f"--dataset_file={GOLDEN / 'train0_summe.h5'}", "--input_size=64", "--batch_size=3",
                         f"--splits_file={GOLDEN / 'train0_summe_splits.json'}", "--device=cpu"])
    data = [VideoData(config.dataset_file, config.split[k], 64) for k in ("train_keys", "test_keys")]
    results = []
    for fast in (True, False):
        solver = Solver(config, *data, fast_dropout=fast)
        assert isinstance(solver.model.drop, FastDropout) == fast
        losses = [float(solver.train_epoch(epoch)) for epoch in range(2)]
        results.append((losses, [p.detach().clone() for p in solver.model.parameters()], torch.get_rng_state()))
    (losses_fast, weights_fast, rng_fast), (losses_torch, weights_torch, rng_torch) = results
    assert losses_fast == losses_torch
    assert all(torch.equal(a, b) for a, b in zip(weights_fast, weights_torch))
    assert torch.equal(rng_fast, rng_torch)


class Terminal(io.StringIO):
    """Captured output that says it is a terminal, as tqdm asks."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_bar_on_a_terminal_only_and_the_last_line_says_what_was_written(tmp_path, terminal):
    from model import main as train_main
    out, err = io.StringIO(), Terminal() if terminal else io.StringIO()
    argv = [f"--dataset_file={GOLDEN / 'train0_summe.h5'}", f"--splits_file={GOLDEN / 'train0_summe_splits.json'}",
            "--input_size=64", "--batch_size=3", "--device=cpu", "--n_epochs=3", f"--exp_dir={tmp_path}", "--verbose"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert train_main.main(argv) == 0
    bar = err.getvalue()
    if terminal:
        assert "Epoch: 100%" in bar and "3/3" in bar and "loss 0." in bar  # the loss and the time left
    else:
        assert bar == ""
    lines = out.getvalue().splitlines()
    assert [line.split(" loss: ")[0] for line in lines[1:4]] == ["[0]", "[1]", "[2]"]  # --verbose alone
    save_dir = tmp_path / "reg0.6" / "SumMe" / "models" / "split0"
    assert lines[-1].startswith(f"{tmp_path / 'reg0.6' / 'SumMe'} split 0: trained 3 epochs; wrote the checkpoints "
                                f"to {save_dir}, the scores to ")
