"""inference/inference.py on checkpoints in the released layout: the same F-scores as in-process, and clear errors."""
import json

import h5py
import numpy as np
import pytest
import torch

from common.errors import UserError
from common.numbers import fixed
from evaluation.annotations import load_tvsum_annotations
from evaluation.evaluation_metrics import evaluate_summary, get_corr_coeff
from evaluation.generate_summary import generate_summary
from evaluation.report import number
from inference import inference
from model.checkpoints import load_model
from model.layers.summarizer import CA_SUM
from tests.helpers import assert_user_error, run_main, run_script, tiny_video, write_h5

D = 16


def save_as_if_from_cuda(state, path):
    """torch.save `state` with every storage tagged cuda:0, as the authors' released files are."""
    registry = torch.serialization._package_registry
    entry = (0, lambda storage: "cuda:0" if storage.device.type == "cpu" else None, lambda storage, location: None)
    registry.insert(0, entry)
    try:
        torch.save(state, path)
    finally:
        registry.remove(entry)


def make_models(root, dataset, n_splits, seed=0):
    torch.manual_seed(seed)
    states = []
    for k in range(n_splits):
        state = CA_SUM(D, D, 60).state_dict()
        (root / dataset / f"split{k}").mkdir(parents=True)
        save_as_if_from_cuda(state, root / dataset / f"split{k}" / f"CA-SUM_{dataset}_split{k}.pkl")
        states.append(state)
    return states


@pytest.fixture
def summe(tmp_path):
    keys = [f"video_{i}" for i in range(1, 7)]
    h5 = write_h5(tmp_path / "summe.h5", {k: tiny_video(T=50 + 13 * i, D=D, seed=i) for i, k in enumerate(keys)})
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps([{"train_keys": keys[:4], "test_keys": keys[4:]},
                                  {"train_keys": keys[2:], "test_keys": keys[:2]}]))
    return h5, splits, make_models(tmp_path / "models", "SumMe", 2)


def expected_f_scores(h5_path, splits, states, method):
    out = []
    with h5py.File(h5_path) as h5:
        for split, state in zip(json.loads(splits.read_text()), states):
            model = CA_SUM(D, D, 60).eval()
            model.load_state_dict(state)
            f = []
            for key in split["test_keys"]:
                video = h5[key]
                with torch.no_grad():
                    scores = model(torch.from_numpy(video["features"][()]))[0][0].numpy()
                summary = generate_summary([video["change_points"][()]], [scores], [video["n_frames"][()]],
                                           [video["picks"][()]])[0]
                f.append(evaluate_summary(summary, video["user_summary"][()], method))
            out.append(np.mean(f))
    return out


def test_released_layout_gives_in_process_f_scores(tmp_path, summe):
    h5, splits, states = summe
    with pytest.raises(RuntimeError):  # the files really are tagged as CUDA tensors
        torch.load(next((tmp_path / "models" / "SumMe" / "split0").iterdir()), weights_only=True)
    report = tmp_path / "report.json"
    result = run_script("inference/inference.py", "--dataset", "SumMe", "--model_dir", tmp_path / "models",
                        "--dataset_file", h5, "--splits_file", splits, "--report", report, "--device", "cpu")
    assert result.returncode == 0, result.stderr
    expected = expected_f_scores(h5, splits, states, "max")
    lines = result.stdout.strip().splitlines()
    assert lines[:2] == [f"CA-SUM model trained for split: {k} achieved an F-score: {f:.2f}%"
                         for k, f in enumerate(expected)]
    assert lines[2] == f"Average over 2 splits: F-score {np.mean(expected):.2f}%"
    data = json.loads(report.read_text())
    assert [s["f_score"] for s in data["splits"]] == expected and data["f_score"] == np.mean(expected)


@pytest.mark.slow
def test_tvsum_correlations(tmp_path, anno_path):
    annotations = load_tvsum_annotations(anno_path)
    keys = ["video_2", "video_5", "video_7"]
    videos = {}
    for i, key in enumerate(keys):
        n_frames = annotations[key].shape[1]
        video = tiny_video(T=-(-n_frames // 15), D=D, seed=i)
        video.update(n_frames=n_frames, picks=np.arange(0, n_frames, 15),
                     change_points=np.array([[a, min(a + 89, n_frames - 1)] for a in range(0, n_frames, 90)]),
                     user_summary=(np.random.default_rng(i).random((20, n_frames)) < 0.15).astype(np.float32))
        videos[key] = video
    h5 = write_h5(tmp_path / "tvsum.h5", videos)
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps([{"train_keys": keys[:1], "test_keys": keys[1:]}]))
    state = make_models(tmp_path / "models", "TVSum", 1)[0]
    result = run_script("inference/inference.py", "--dataset", "TVSum", "--corr_coef", "true", "--model_dir",
                        tmp_path / "models", "--dataset_file", h5, "--splits_file", splits,
                        "--anno", anno_path)
    assert result.returncode == 0, result.stderr
    model = CA_SUM(D, D, 60).eval()
    model.load_state_dict(state)
    rhos, taus = zip(*[get_corr_coeff(model(torch.from_numpy(videos[k]["features"]))[0][0].detach().numpy(),
                                      annotations[k]) for k in keys[1:]])
    f = expected_f_scores(h5, splits, [state], "avg")[0]
    assert result.stdout.splitlines()[0] == (f"CA-SUM model trained for split: 0 achieved an F-score: {f:.2f}%, "
                                             f"a Spearman's \u03c1: {np.mean(rhos):.3f}  and a Kendall's \u03c4: "
                                             f"{np.mean(taus):.3f}")


@pytest.mark.slow
def test_own_training_layout_uses_the_selected_checkpoint(tmp_path, summe):
    h5, splits, states = summe
    folder = tmp_path / "exp" / "reg0.6" / "SumMe" / "models"
    for k, state in enumerate(states):
        (folder / f"split{k}").mkdir(parents=True)
        torch.save(state, folder / f"split{k}" / "selected_epoch3.pt")
        torch.save(CA_SUM(D, D, 60).state_dict(), folder / f"split{k}" / "last_epoch9.pt")
    result = run_script("inference/inference.py", "--model_dir", tmp_path / "exp" / "reg0.6", "--dataset_file", h5,
                        "--splits_file", splits)
    assert result.returncode == 0, result.stderr
    assert f"{expected_f_scores(h5, splits, states, 'max')[0]:.2f}%" in result.stdout.splitlines()[0]


def run_inference(tmp_path, h5, splits):
    return run_main(inference.main, "--model_dir", tmp_path / "models", "--dataset_file", h5, "--splits_file", splits)


def test_checkpoint_errors(tmp_path, summe):
    h5, splits, states = summe
    split1 = tmp_path / "models" / "SumMe" / "split1"
    ckpt = next(split1.iterdir())

    (split1 / "other.pth").write_bytes(b"")
    assert_user_error(run_inference(tmp_path, h5, splits), "split1: several candidate checkpoint files")
    (split1 / "other.pth").unlink()

    ckpt.write_text("not a checkpoint")
    assert_user_error(run_inference(tmp_path, h5, splits), f"{ckpt}: not a PyTorch checkpoint")

    state = dict(states[1])
    del state["linear_2.bias"]
    state["extra.weight"] = torch.zeros(1)
    torch.save(state, ckpt)
    assert_user_error(run_inference(tmp_path, h5, splits), "missing keys: linear_2.bias",
                      "unexpected keys: extra.weight")

    torch.save(CA_SUM(32, 32, 60).state_dict(), ckpt)
    assert_user_error(run_inference(tmp_path, h5, splits), "implies input_size 32", "features are 16-d")

    bad = dict(states[1])
    bad["attention.out.weight"] = torch.zeros(D, D)
    torch.save(bad, ckpt)
    assert_user_error(run_inference(tmp_path, h5, splits), "attention.out.weight (16, 16) (expected (16, 18))")

    ckpt.unlink()
    assert_user_error(run_inference(tmp_path, h5, splits), "split1: no checkpoint file")
    split1.rmdir()
    assert_user_error(run_inference(tmp_path, h5, splits), "split1: no checkpoint folder for split 1",
                      "download.py models")


def test_load_model_maps_cuda_checkpoints_to_the_cpu(tmp_path):
    state = CA_SUM(D, D, 60).state_dict()
    save_as_if_from_cuda(state, tmp_path / "m.pkl")
    model = load_model(tmp_path / "m.pkl", "cpu")
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert not model.training


def test_a_backbone_or_foreign_state_dict_as_checkpoint_is_one_short_line(tmp_path):
    torchvision = pytest.importorskip("torchvision", reason="torchvision is not installed (requirements-video.txt)")
    backbone = tmp_path / "googlenet.pth"
    torch.save(torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False).state_dict(), backbone)
    with pytest.raises(UserError, match="this is a GoogLeNet state_dict \\(the feature backbone\\), not a CA-SUM "
                                        "checkpoint; give it as --backbone_weights"):
        load_model(backbone)
    foreign = tmp_path / "foreign.pt"
    torch.save({f"layer{i}.weight": torch.zeros(1) for i in range(500)}, foreign)
    with pytest.raises(UserError) as error:
        load_model(foreign)
    message = str(error.value)
    assert len(message) < 400 and "unexpected keys: layer0.weight, layer1.weight, layer2.weight, layer3.weight and " \
                                  "496 more" in message


@pytest.mark.slow
def test_own_training_with_one_finished_split(tmp_path, summe):
    h5, splits, states = summe
    folder = tmp_path / "exp" / "reg0.6" / "SumMe" / "models" / "split1"
    folder.mkdir(parents=True)
    torch.save(states[1], folder / "selected_epoch3.pt")
    result = run_script("inference/inference.py", "--model_dir", tmp_path / "exp" / "reg0.6", "--dataset_file", h5,
                        "--splits_file", splits)
    assert result.returncode == 0, result.stderr
    f = expected_f_scores(h5, splits, states, "max")[1]
    assert result.stdout.splitlines() == [f"CA-SUM model trained for split: 1 achieved an F-score: {f:.2f}%",
                                          f"  {folder / 'selected_epoch3.pt'}",
                                          f"Average over 1 split (no finished run for 1 of the 2 splits): "
                                          f"F-score {f:.2f}%"]
    missing = run_script("inference/inference.py", "--model_dir", tmp_path / "exp" / "reg0.6", "--dataset_file", h5,
                         "--splits_file", splits, "--split_index", 0)
    assert_user_error(missing, f"{folder.parent / 'split0'}: no selected_epoch*.pt")


def test_constant_scores_are_a_warning(tmp_path, summe):
    """A checkpoint that gives every frame the same score (here: features of zeros, as wrong backbone weights give
    features around 1e-13) makes summaries of the first shots: the command says so, and still reports."""
    h5, splits, _ = summe
    with h5py.File(h5, "a") as file:
        for key in ("video_5", "video_6"):
            file[key]["features"][...] = 0
    done = run_inference(tmp_path, h5, splits)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    checkpoint = next((tmp_path / "models" / "SumMe" / "split0").iterdir())
    assert warnings == [f"warning: {checkpoint}: CA-SUM gave (nearly) the same score to every frame of 2 of the 2 "
                        f"test videos of split 0 (video_5, video_6): which shots their summaries keep is decided by "
                        f"rounding-sized differences, not a choice; check the checkpoint and the features of {h5}"]
    assert len(done.stdout.splitlines()) == 3


def test_own_numbers_have_no_negative_zero():
    """Our lines and tables (not the authors' printout, kept byte for byte) print 0.000 for a rounded -0.0004."""
    assert [fixed(v, 3) for v in (-0.0004, -0.0, 0.0004, -0.0006)] == ["0.000", "0.000", "0.000", "-0.001"]
    assert (number(-0.0, 2), number(-0.0004, 3), number(None, 3)) == ("0.00", "0.000", "n/a")
