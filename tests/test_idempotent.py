"""Outputs are all-or-nothing: re-running the evaluation gives byte-identical files; an interrupted, killed, disk-full
or read-only run leaves every output either as it was or complete, with no temporary left behind, and says why in
one line.

Disk full and read-only folders are simulated by making the writes of model/fileio.py (every output but the
TensorBoard events) fail with ENOSPC, EROFS or EACCES, and the TensorBoard writer's file opens fail with ENOSPC:
portable, and it works as root, which chmod does not stop. The real thing (a full tmpfs, a read-only mount) gives the
same messages; tests/test_fuzz.py and this file were checked against both by hand.
"""
import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from common import fileio
from data import make_dataset
from evaluation import choose_best_model, compute_fscores, evaluate_experiment, export_tensorboard_log
from evaluation.scalars import EVALUATION_EVENTS
from inference import inference
from model import main as train_main
from tests import tiny_experiment as tiny
from tests.helpers import REPO, run_main

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return tiny.build(tmp_path_factory.mktemp("inputs"))


def files(root):
    """{relative path: bytes} of every file under root."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


def leftovers(root):
    return [p for p in Path(root).rglob(".*.tmp")]


def run(main, *argv):
    """main(argv) as the command line runs it: (exit status, stderr)."""
    done = run_main(main, *argv)
    return done.returncode, done.stderr


def chain_argv(exp, inputs, workers=1):
    return [exp, "TVSum", "avg", "--dataset_file", inputs["h5"], "--splits_file", inputs["splits"], "--anno",
            inputs["anno"], "--workers", workers]


OUTPUTS = ("scalars.csv", "f_scores.txt", "_best_models.json", "_baselines.json", "_curves.png", EVALUATION_EVENTS)


def outputs(exp):
    """The evaluation's outputs in `exp`: scalars.csv, f_scores.txt, the report, the baselines, the picture and the
    evaluation's TensorBoard events of every run. Only those are read: an evaluation running meanwhile renames its
    temporary files away, but never its outputs (os.replace swaps them whole)."""
    return {str(path.relative_to(exp)): path.read_bytes() for path in sorted(Path(exp).rglob("*"))
            if path.name.endswith(OUTPUTS)}


def shift_scores(exp, shift):
    """New score files for every run (the outputs of the evaluation change with them)."""
    rng = np.random.default_rng(7)
    for sigma in tiny.SIGMAS:
        for k, test in enumerate(reversed(tiny.KEYS)):
            tiny.write_scores(exp / f"reg{sigma}" / "TVSum" / "results" / f"split{k}", test, sigma, rng, shift)


@pytest.fixture(scope="module")
def evaluated(inputs, tmp_path_factory):
    """(experiment evaluated once, its outputs, outputs after new scores): old and new versions of every file."""
    exp = shutil.copytree(inputs["exp"], tmp_path_factory.mktemp("evaluated") / "exp")
    assert run(evaluate_experiment.main, *chain_argv(exp, inputs)) == (0, "")
    old = outputs(exp)
    rescored = shutil.copytree(exp, exp.parent / "rescored")
    shift_scores(rescored, 0.1)
    assert run(evaluate_experiment.main, *chain_argv(rescored, inputs)) == (0, "")
    new = outputs(rescored)
    assert len(old) == 25 * 3 + 3 and old.keys() == new.keys()
    assert sum(old[n] != new[n] for n in old) >= 45  # most f_scores.txt and evaluation events change
    assert old["TVSum_baselines.json"] == new["TVSum_baselines.json"]  # the baselines do not depend on the scores
    assert old["TVSum_curves.png"] != new["TVSum_curves.png"]
    return exp, old, new


def test_rerun_gives_identical_files(inputs, evaluated, tmp_path):
    exp, _, _ = evaluated
    again = shutil.copytree(exp, tmp_path / "exp")
    assert run(evaluate_experiment.main, *chain_argv(again, inputs, workers=2)) == (0, "")
    assert files(again) == files(exp)
    results, logs = again / "reg0.8" / "TVSum" / "results" / "split3", again / "reg0.8" / "TVSum" / "logs" / "split3"
    assert run(compute_fscores.main, "--path", results, "--dataset", "TVSum", "--eval", "avg",
               "--dataset_file", inputs["h5"]) == (0, "")
    assert run(export_tensorboard_log.main, logs) == (0, "")
    assert run(choose_best_model.main, "--exp_dir", again, "--dataset", "TVSum", "--anno", inputs["anno"],
               "--splits_file", inputs["splits"], "--dataset_file", inputs["h5"]) == (0, "")
    assert files(again) == files(exp) and not leftovers(again)


def assert_old_or_new(exp, old, new):
    """Every output is its old version or its complete new one; no temporary is left."""
    now = outputs(exp)
    assert now.keys() == old.keys()
    for name, data in now.items():
        assert data in (old[name], new[name]), f"{name} is neither the old nor the new file"
    assert not leftovers(exp)


@pytest.mark.slow
@pytest.mark.parametrize("write", [1, 2, 26, 30, 51, 64, 77])
def test_interrupted_evaluation_leaves_old_or_new_files(inputs, evaluated, tmp_path, monkeypatch, write):
    """Ctrl-C during the write number `write` (after its data are in the temporary file, before the rename): 1-50
    scalars.csv and f_scores.txt, 51 the report, 52-76 the evaluation's TensorBoard events, 77 the picture."""
    exp, old, new = evaluated
    exp = shutil.copytree(exp, tmp_path / "exp")
    shift_scores(exp, 0.1)
    count = {"writes": 0}
    fsync = os.fsync

    def interrupted(fd):
        count["writes"] += 1
        if count["writes"] == write:
            raise KeyboardInterrupt
        fsync(fd)
    monkeypatch.setattr(fileio.os, "fsync", interrupted)
    status, err = run(evaluate_experiment.main, *chain_argv(exp, inputs))
    assert (status, err) == (130, "interrupted\n")
    assert_old_or_new(exp, old, new)
    monkeypatch.setattr(fileio.os, "fsync", fsync)
    assert run(evaluate_experiment.main, *chain_argv(exp, inputs)) == (0, "")
    assert outputs(exp) == new


@pytest.mark.slow
def test_killed_evaluation_leaves_old_or_new_files(inputs, evaluated, tmp_path):
    """SIGKILL of the real command as soon as it has replaced a file, three times; the next run cleans up and
    finishes the job."""
    exp, old, new = evaluated
    exp = shutil.copytree(exp, tmp_path / "exp")
    shift_scores(exp, 0.1)
    command = [sys.executable, str(REPO / "evaluation" / "evaluate_experiment.py"),
               *map(str, chain_argv(exp, inputs, workers=2))]
    for _ in range(3):
        start = outputs(exp)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        while outputs(exp) == start and process.poll() is None:
            time.sleep(0.002)
        os.killpg(process.pid, signal.SIGKILL)  # the command and its worker processes
        process.wait()
        now = outputs(exp)
        assert all(data in (old[name], new[name]) for name, data in now.items())
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert outputs(exp) == new and not leftovers(exp)


# ---------------------------------------------------------------- disk full, read-only ----------------------------

FAILURES = {"disk full": (errno.ENOSPC, "No space left on device"),
            "read-only": (errno.EROFS, "Read-only file system"),
            "no permission": (errno.EACCES, "Permission denied")}


def fail_writes(monkeypatch, kind):
    """Make every fileio write fail as `kind` does: disk full half-way through the data, read-only and no
    permission when the temporary file is created. TensorBoard's event writer fails alike."""
    code, text = FAILURES[kind]
    if kind == "disk full":
        class Full:
            """A file that takes half of the first data written to it, then reports the disk full."""
            def __init__(self, path, mode, **kwargs):
                self.file = open(path, mode, **kwargs)

            def write(self, data):
                self.file.write(data[:len(data) // 2])
                self.file.flush()
                raise OSError(code, text)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.file.close()
        monkeypatch.setattr(fileio, "open", Full, raising=False)
    else:
        def refuse(*args, **kwargs):
            raise OSError(code, text)
        monkeypatch.setattr(fileio.tempfile, "mkstemp", refuse)
    from tensorboard.compat.tensorflow_stub.io import gfile
    real_io = gfile.io

    class NoEvents:
        @staticmethod
        def open(path, mode="r", *args, **kwargs):
            if "w" in mode or "a" in mode:
                raise OSError(code, text)
            return real_io.open(path, mode, *args, **kwargs)
    monkeypatch.setattr(gfile, "io", NoEvents)
    return text


def entry_points(inputs, root):
    """(name, main, argv, output that must name in the message) of every entry point writing into root."""
    exp, models = root / "exp", inputs["models"]
    results, logs = exp / "reg0.6" / "TVSum" / "results" / "split0", exp / "reg0.6" / "TVSum" / "logs" / "split0"
    return [
        ("train", train_main.main, ["--dataset_file", inputs["h5"], "--splits_file", inputs["splits"], "--exp_dir",
                                    root / "train", "--input_size", tiny.D, "--batch_size", 2, "--n_epochs", 1,
                                    "--device", "cpu"], root / "train"),
        ("compute_fscores", compute_fscores.main, ["--path", results, "--dataset", "TVSum", "--eval", "avg",
                                                   "--dataset_file", inputs["h5"]], results / "f_scores.txt"),
        ("export", export_tensorboard_log.main, [logs], logs / "scalars.csv"),
        ("choose", choose_best_model.main, ["--exp_dir", exp, "--dataset", "TVSum", "--anno", inputs["anno"],
                                               "--splits_file", inputs["splits"], "--dataset_file", inputs["h5"]],
         exp / "TVSum_best_models.json"),
        ("evaluate_experiment", evaluate_experiment.main, chain_argv(exp, inputs), exp),
        ("inference", inference.main, ["--dataset", "TVSum", "--model_dir", models, "--dataset_file", inputs["h5"],
                                       "--splits_file", inputs["splits"], "--device", "cpu", "--report",
                                       root / "report.json"], root / "report.json"),
        ("make_dataset", make_dataset.main, ["--out", root / "made", "--videos", 2, "--input_size", 4],
         root / "made" / "demo_"),
    ]


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_failed_writes_keep_the_previous_outputs(inputs, evaluated, tmp_path, monkeypatch, kind):
    exp, _, _ = evaluated
    shutil.copytree(exp, tmp_path / "exp")
    (tmp_path / "report.json").write_text("{}")
    for name, main, argv, output in entry_points(inputs, tmp_path):
        before = files(tmp_path)
        with monkeypatch.context() as patch:
            text = fail_writes(patch, kind)
            status, err = run(main, *argv)
        assert status == 2, (name, err)
        assert err.count("\n") == 1 and err.startswith(f"error: {output}") and f"cannot write: {text}" in err, \
            (name, err)
        after = files(tmp_path)
        if name == "train":  # a new run: what it wrote before the failure is the state --resume continues
            after = {n: d for n, d in after.items() if not n.startswith("train/")}
        if name == "make_dataset":  # the h5 is written by HDF5 itself, which the simulation cannot fill up
            after = {n: d for n, d in after.items() if not n.startswith("made/")}
        assert after == before, name
        assert not leftovers(tmp_path), name


def test_tensorboard_write_failure_during_training(inputs, tmp_path, monkeypatch):
    """The disk fills up between two epochs: the error is reported once, in one line."""
    from common import tblog

    def filling_up(path, mode):
        file, writes = open(path, mode), [0]

        class Full:
            def write(self, data):
                writes[0] += 1
                if writes[0] > 3:  # the file's version, then the losses of epochs 0 and 1
                    raise OSError(errno.ENOSPC, "No space left on device")
                return file.write(data)

            def flush(self):
                file.flush()

            def close(self):
                file.close()
        return Full()
    monkeypatch.setattr(tblog, "open", filling_up, raising=False)
    status, err = run(train_main.main, "--dataset_file", inputs["h5"], "--splits_file", inputs["splits"],
                      "--exp_dir", tmp_path / "exp", "--input_size", tiny.D, "--batch_size", 2, "--n_epochs", 4,
                      "--device", "cpu")
    assert status == 2 and err == (f"error: {tmp_path / 'exp' / 'reg0.6' / 'SumMe' / 'logs' / 'split0'}: cannot write "
                                   f"the TensorBoard log: No space left on device\n")
    assert not leftovers(tmp_path)


def test_background_resume_write_failure_during_training(inputs, tmp_path, monkeypatch):
    """The disk fills up while resume.pt is written behind the training: one line naming it, the last complete
    resume.pt stays, and --resume continues from it to the end."""
    real_open, opened = open, []

    def fills_up(path, mode="r", *args, **kwargs):
        if ".resume.pt." in str(path):
            opened.append(path)
            if len(opened) > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, mode, *args, **kwargs)
    argv = ["--dataset_file", inputs["h5"], "--splits_file", inputs["splits"], "--exp_dir", tmp_path / "exp",
            "--input_size", tiny.D, "--batch_size", 2, "--n_epochs", 4, "--device", "cpu", "--resume_every", 1]
    with monkeypatch.context() as patch:
        patch.setattr(fileio, "open", fills_up, raising=False)
        status, err = run(train_main.main, *argv)
    resume = tmp_path / "exp" / "reg0.6" / "SumMe" / "models" / "split0" / "resume.pt"
    assert status == 2 and err == f"error: {resume}: cannot write: No space left on device\n"
    assert torch.load(resume, weights_only=True)["epoch"] == 0
    assert not leftovers(tmp_path)
    assert run(train_main.main, *argv, "--resume") == (0, "")
    assert not resume.exists() and (resume.parent / "last_epoch3.pt").is_file()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_for_real(inputs, evaluated, tmp_path):
    exp, _, _ = evaluated
    exp = shutil.copytree(exp, tmp_path / "exp")
    results = exp / "reg0.6" / "TVSum" / "results" / "split0"
    before = files(exp)
    results.chmod(0o555)
    try:
        status, err = run(compute_fscores.main, "--path", results, "--dataset", "TVSum", "--eval", "avg",
                          "--dataset_file", inputs["h5"])
    finally:
        results.chmod(0o755)
    assert status == 2 and err == f"error: {results / 'f_scores.txt'}: cannot write: Permission denied\n"
    assert files(exp) == before
