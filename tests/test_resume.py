"""Killing a training run (SIGKILL) at any epoch and resuming it gives the files of an uninterrupted run, bit for
bit."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evaluation.scalars import read_loss_events
from tests.helpers import REPO, run_script, tiny_video, write_h5

KEYS = [f"video_{i}" for i in range(1, 7)]
N_EPOCHS = 8


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    h5 = write_h5(folder / "data.h5", {k: tiny_video(T=40 + 7 * i, D=32, seed=i) for i, k in enumerate(KEYS)})
    splits = folder / "splits.json"
    splits.write_text('[{"train_keys": %s, "test_keys": %s}]' % (str(KEYS[:5]).replace("'", '"'), '["video_6"]'))
    return ["--dataset_file", str(h5), "--splits_file", str(splits), "--input_size", "32", "--block_size", "16",
            "--batch_size", "2", "--n_epochs", str(N_EPOCHS), "--device", "cpu"]


def outputs(exp_dir):
    """{relative path: bytes} of the score files and checkpoints, and the logged losses."""
    run = exp_dir / "reg0.6" / "SumMe"
    files = {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
             if p.is_file() and p.parent.parent.name in ("results", "models")}
    return files, [(step, loss) for _, step, loss in read_loss_events(run / "logs" / "split0")]


def train_until_killed(args, exp_dir, epoch):
    """Start training and SIGKILL it as soon as the score file of `epoch` appears."""
    marker = exp_dir / "reg0.6" / "SumMe" / "results" / "split0" / f"SumMe_{epoch}.json"
    process = subprocess.Popen([sys.executable, str(REPO / "model" / "main.py"), *args, "--exp_dir", str(exp_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not marker.exists() and process.poll() is None:  # however busy the machine: the file, not a clock
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    last = marker.parent.parent.parent / "models" / "split0" / f"last_epoch{N_EPOCHS - 1}.pt"
    assert marker.exists() and not last.exists()


@pytest.mark.slow
@pytest.mark.parametrize("every", [1, 3])
def test_kill_and_resume_equals_uninterrupted_run(inputs, tmp_path, every):
    """Killed after epochs 1 and 5: with resume.pt every epoch, or every 3 (epochs 2..5 are trained again)."""
    assert run_script("model/main.py", *inputs, "--exp_dir", tmp_path / "whole").returncode == 0
    expected = outputs(tmp_path / "whole")
    inputs = inputs + ["--resume_every", str(every)]

    exp = tmp_path / "killed"
    train_until_killed(inputs, exp, 1)
    refused = run_script("model/main.py", *inputs, "--exp_dir", exp)
    assert refused.returncode == 2 and "continue it with --resume" in refused.stderr
    train_until_killed(inputs + ["--resume"], exp, 5)
    resumed = run_script("model/main.py", *inputs, "--exp_dir", exp, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    # resume.pt of epoch 5 (saved after epochs 2 and 5 with every 3) may be on its way to the disk when the kill
    # comes, which waits for epoch 5's scores only
    assert any(f"resuming after epoch {e}\n" in resumed.stdout for e in ((4, 5) if every == 1 else (2, 5)))
    got = outputs(exp)
    assert sorted(got[0]) == sorted(expected[0])
    for name, content in expected[0].items():
        assert got[0][name] == content, name
    assert got[1] == expected[1]
    assert not (exp / "reg0.6" / "SumMe" / "models" / "split0" / "resume.pt").exists()

    again = run_script("model/main.py", *inputs, "--exp_dir", exp, "--resume")
    assert again.returncode == 0 and "already finished" in again.stdout
    assert outputs(exp) == got


@pytest.mark.slow
def test_resume_refuses_other_arguments_and_overwrite_starts_over(inputs, tmp_path):
    exp = tmp_path / "exp"
    inputs = inputs + ["--resume_every", "1"]
    train_until_killed(inputs, exp, 2)
    changed = run_script("model/main.py", *inputs, "--exp_dir", exp, "--resume", "--lr", "0.001")
    assert changed.returncode == 2 and "--lr 0.0005 (now 0.001)" in changed.stderr
    assert run_script("model/main.py", *inputs, "--exp_dir", exp, "--overwrite", "--n_epochs", "2").returncode == 0
    results = exp / "reg0.6" / "SumMe" / "results" / "split0"
    assert sorted(p.name for p in results.iterdir()) == ["SumMe_-1.json", "SumMe_0.json", "SumMe_1.json"]
    other_length = run_script("model/main.py", *inputs, "--exp_dir", exp, "--resume")
    assert other_length.returncode == 2 and "finished run of another length" in other_length.stderr


def test_ctrl_c_says_how_to_continue(inputs, tmp_path):
    marker = tmp_path / "exp" / "reg0.6" / "SumMe" / "results" / "split0" / "SumMe_0.json"
    # epochs of these tiny videos take milliseconds: enough of them that the interrupt comes before the end
    process = subprocess.Popen([sys.executable, str(REPO / "model" / "main.py"), *inputs, "--n_epochs", "5000",
                                "--exp_dir", str(tmp_path / "exp")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    while not marker.exists() and process.poll() is None:
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate()
    assert process.returncode == 130 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == ("interrupted: run the same command with --resume to continue from the "
                                            "last saved epoch (from the start when none was saved yet)")


@pytest.mark.slow
def test_resume_before_the_first_saved_epoch_says_it_starts_over(inputs, tmp_path):
    """Killed after epoch 1 with --resume_every 5 (no resume.pt yet): --resume says that it starts from epoch 0, and
    ends with the files of an uninterrupted run."""
    args = [*inputs, "--resume_every", "5"]
    train_until_killed(args, tmp_path / "killed", 1)
    assert not (tmp_path / "killed" / "reg0.6" / "SumMe" / "models" / "split0" / "resume.pt").exists()
    resumed = run_script("model/main.py", *args, "--exp_dir", tmp_path / "killed", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert (f"{tmp_path / 'killed' / 'reg0.6' / 'SumMe'} split 0: no epoch was saved for --resume yet (resume.pt, "
            f"every --resume_every epochs): starting from epoch 0\n") in resumed.stdout
    assert run_script("model/main.py", *args, "--exp_dir", tmp_path / "plain").returncode == 0
    assert outputs(tmp_path / "killed") == outputs(tmp_path / "plain")


@pytest.mark.slow
def test_ctrl_c_in_a_split_script_says_one_thing(inputs, tmp_path):
    """Ctrl-C reaches the split script and its running training alike (one process group): one line, the grid's."""
    exp = tmp_path / "exp"
    marker = exp / "reg0.5" / "SumMe" / "results" / "split0" / "SumMe_0.json"
    grid_args = [a for a in inputs if a not in ("--batch_size", "2")]
    process = subprocess.Popen(["bash", str(REPO / "run_summe_splits.sh"), *grid_args, "--batch_size", "2",
                                "--n_epochs", "5000", "--exp_dir", str(exp)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env=dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}"))
    while not marker.exists() and process.poll() is None:
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = process.communicate()
    lines = [line for line in err.splitlines() if "interrupted" in line]
    assert lines == ["interrupted: run the same command again to continue (finished runs are skipped)"], err
