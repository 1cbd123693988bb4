"""What a new user meets first: every entry point, given a data file or a model that is not there, says how to get
it or how to try the demo (common/hints.py), in one line and before its slow imports; and every --help description
is a whole sentence."""
import importlib
import json
import subprocess
import sys

import pytest

from common.cli import description
from common.hints import DEMO
from tests.helpers import REPO, assert_user_error, run_main, run_script, tiny_video, write_h5

DOWNLOAD = "python data/download.py datasets"
MODELS = "python data/download.py models"


@pytest.fixture
def files(tmp_path):
    """A tiny dataset and its splits, and the paths of the paper's files that are not there."""
    keys = ["video_1", "video_2"]
    h5 = write_h5(tmp_path / "tiny.h5", {key: tiny_video(seed=i) for i, key in enumerate(keys)})
    splits = tmp_path / "tiny_splits.json"
    splits.write_text(json.dumps([{"train_keys": keys[:1], "test_keys": keys[1:]}]))
    return {"h5": h5, "splits": splits, "no_h5": tmp_path / "eccv16_dataset_summe_google_pool5.h5",
            "no_splits": tmp_path / "summe_splits.json", "exp": tmp_path / "exp"}


def command(name, f):
    """(command line, what the error names, the hint's command) of the entry point `name`, which reads the data."""
    return {entry[0]: entry[1:] for entry in [
        ("main.py", ["model/main.py", "--splits_file", f["no_splits"]], f["no_splits"], DOWNLOAD),
        ("inference.py splits", ["inference/inference.py", "--splits_file", f["no_splits"]], f["no_splits"], DOWNLOAD),
        ("inference.py h5", ["inference/inference.py", "--splits_file", f["splits"], "--dataset_file", f["no_h5"]],
         f["no_h5"], DOWNLOAD),
        ("inference.py models", ["inference/inference.py", "--splits_file", f["splits"], "--dataset_file", f["h5"],
                                 "--model_dir", f["exp"]], f"{f['exp']}: model folder not found", MODELS),
        ("evaluate_experiment.py", ["evaluation/evaluate_experiment.py", f["exp"], "SumMe", "max", "--splits_file",
                                    f["no_splits"]], f["no_splits"], DOWNLOAD),
        ("choose_best_model.py", ["evaluation/choose_best_model.py", "--exp_dir", f["exp"], "--dataset", "SumMe",
                                  "--splits_file", f["no_splits"]], f["no_splits"], DOWNLOAD),
        ("compute_fscores.py", ["evaluation/compute_fscores.py", "--path", f["exp"], "--dataset", "SumMe", "--eval",
                                "max", "--dataset_file", f["no_h5"]], f["no_h5"], DOWNLOAD),
        ("random_baseline.py", ["evaluation/random_baseline.py", "--dataset_file", f["no_h5"], "--splits_file",
                                f["splits"], "--eval", "max"], f["no_h5"], DOWNLOAD),
        ("mrhisum_selection.py", ["experiments/mrhisum_selection.py", f["exp"], "--splits_file",
                                  f["exp"] / "mr_hisum_split.json"], "mr_hisum_split.json",
         "python data/download.py mrhisum"),
    ]}[name]


@pytest.mark.parametrize("name", [pytest.param("main.py", marks=pytest.mark.slow), "inference.py splits",
                                  "inference.py h5", "inference.py models", "evaluate_experiment.py",
                                  "choose_best_model.py", "compute_fscores.py", "random_baseline.py",
                                  "mrhisum_selection.py"])
def test_every_entry_point_says_how_to_get_missing_data(files, name):
    line, path, hint = command(name, files)
    done = run_script(*line)
    assert_user_error(done, str(path), hint)
    if hint == DOWNLOAD:
        assert DEMO in done.stderr


@pytest.mark.parametrize("script", ["run_summe_splits.sh", "run_tvsum_splits.sh", "evaluation/choose_best_model.sh"])
def test_the_shell_scripts_say_it_too(files, script):
    args = [files["exp"], "SumMe", "max"] if "evaluation" in script else []
    done = subprocess.run(["bash", str(REPO / script), *map(str, args), "--splits_file", str(files["no_splits"]),
                           "--dataset_file", str(files["h5"])], capture_output=True, text=True, cwd=REPO.parent)
    assert_user_error(done, f"{files['no_splits']}: splits file not found", DOWNLOAD, DEMO)


def checked_before_pytorch(script, *args):
    """(stderr, whether torch was imported) of `python script args` stopped by its own error."""
    code = (f"import runpy, sys; sys.argv = {[script, *map(str, args)]!r}\n"
            f"try:\n    runpy.run_path({str(REPO / script)!r}, run_name='__main__')\n"
            f"except SystemExit:\n    print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO.parent)
    return done.stderr, done.stdout.strip() == "True"


def test_the_paths_are_checked_before_pytorch_loads(files):
    """A missing file is reported before the slow imports (seconds, more on a busy machine)."""
    for script, args in (("inference/inference.py", ["--splits_file", files["no_splits"]]),
                         ("experiments/run_splits.py", ["--video_type", "SumMe", "--splits_file", files["no_splits"],
                                                        "--dataset_file", files["h5"]]),
                         ("experiments/mrhisum_selection.py", [files["exp"], "--splits_file", files["no_splits"]])):
        err, imported = checked_before_pytorch(script, *args)
        assert "splits file not found" in err and not imported, (script, err)
    files["exp"].mkdir()
    err, imported = checked_before_pytorch("experiments/mrhisum_selection.py", files["exp"], "--splits_file",
                                           files["splits"], "--dataset_file", files["no_h5"])
    assert "dataset file not found" in err and not imported, err


def test_the_video_commands_check_their_files_before_pytorch_loads(tmp_path):
    pytest.importorskip("av", reason="av is not installed (the video path: requirements-video.txt)")
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not read")
    err, imported = checked_before_pytorch("inference/summarize_video.py", video, "--checkpoint", tmp_path / "no.pt")
    assert f"error: {tmp_path / 'no.pt'}: checkpoint file not found; " in err and "download.py models" in err
    assert not imported
    err, imported = checked_before_pytorch("data/make_dataset_from_videos.py", video, "--out", tmp_path / "my.h5",
                                           "--backbone_weights", tmp_path / "no.pth")
    assert f"error: {tmp_path / 'no.pth'}: backbone weights file not found; " in err and "--random_backbone" in err
    assert not imported


MODULES = ["evaluation.export_tensorboard_log", "evaluation.evaluate_experiment", "evaluation.choose_best_model",
           "evaluation.mrhisum_eval", "evaluation.compute_fscores", "evaluation.random_baseline", "inference.inference",
           "experiments.mrhisum_selection", "experiments.run_splits"]


@pytest.mark.parametrize("name", MODULES)
def test_help_descriptions_are_whole_sentences(name):
    """The first line of a docstring can stop mid-sentence ("... test videos (docs/method.md,"): --help shows the
    first paragraph."""
    module = importlib.import_module(name)
    text = description(module.__doc__)
    assert text.endswith(".") and text.count("(") == text.count(")"), text
    done = run_main(module.main, "--help")
    assert done.returncode == 0 and text in " ".join(done.stdout.split())


def test_once_the_demo_ran_the_hint_gives_its_files(tmp_path, monkeypatch):
    """Evaluating Summaries/demo without the demo's --dataset_file and --splits_file: the hint names them."""
    import common.hints as hints
    demo = (tmp_path / "demo_dataset.h5", tmp_path / "demo_splits.json")
    monkeypatch.setattr(hints, "demo_dataset_files", lambda dataset: demo)
    assert hints.missing_data_hint(tmp_path / "summe_splits.json").endswith(DEMO + "`")
    for file in demo:
        file.write_text("")
    assert hints.missing_data_hint(tmp_path / "summe_splits.json") == (
        f"; `python data/download.py datasets` fetches the paper's data (data/README.md); the runs of `{DEMO}` take "
        f"the demo's own files: --dataset_file {demo[0]} --splits_file {demo[1]}")
