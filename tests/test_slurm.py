"""`--slurm` on a real single-node SLURM cluster started for the test (tests/slurm_cluster.sh): the job array and the
dependent evaluation give the files, losses and table of the sequential loop; a partial grid resubmits only what is
missing; a second submission is refused while the first one's jobs are queued. Skips where no cluster can start."""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.grid_helpers import (
    REPO,
    evaluation_outputs,
    finish,
    grid_args,
    neutral,
    references,
    remove_run,
    run_grid,
    training_outputs,
)

pytestmark = pytest.mark.slow  # a SLURM cluster of one node

CLUSTER = REPO / "tests" / "slurm_cluster.sh"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The environment of a running private cluster (SLURM_CONF set); stopped after the module's tests."""
    folder = tmp_path_factory.mktemp("slurm")
    started = subprocess.run(["bash", str(CLUSTER), "start", str(folder)], capture_output=True, text=True)
    if started.returncode == 3:
        pytest.skip(started.stderr.strip())
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == f"SLURM_CONF={folder / 'slurm.conf'}"
    yield dict(os.environ, SLURM_CONF=str(folder / "slurm.conf"))
    stopped = subprocess.run(["bash", str(CLUSTER), "stop", str(folder)], capture_output=True, text=True)
    assert stopped.returncode == 0, stopped.stderr
    daemons = re.findall(r"^stopped (\S+) \((\d+)\)$", stopped.stdout, re.M)
    assert [name for name, _ in daemons] == ["slurmd", "slurmctld", "munged"]
    assert not any(running(pid) for _, pid in daemons)


def running(pid):
    """Whether process `pid` runs (a zombie that no init has reaped yet does not)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    return references(tmp_path_factory)


def submit(ref, exp, env):
    """Submit the tiny grid with --slurm (and a time limit for both jobs); return (stdout, array job id or None,
    evaluation job id)."""
    out = finish(run_grid(*grid_args(ref.data), "--exp_dir", exp, "--slurm", "--sbatch=--time=30 --nice=0", env=env))
    array = re.search(r"^submitted job (\d+): \d+ training run", out, re.M)
    evaluation = re.search(r"^submitted job (\d+): the evaluation", out, re.M)
    return out, array and array.group(1), evaluation.group(1)


def wait_for(jobs, env, timeout=600):
    """Wait until none of `jobs` is queued or running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queued = subprocess.run(["squeue", "--noheader", "--format=%i", f"--jobs={','.join(jobs)}"],
                                capture_output=True, text=True, env=env)
        if not queued.stdout.strip():
            return
        time.sleep(0.5)
    raise AssertionError(f"jobs {jobs} still queued after {timeout} s")


def test_slurm_grid_equals_the_sequential_loop(cluster, ref, tmp_path):
    exp = tmp_path / "exp"
    out, array, evaluation = submit(ref, exp, cluster)
    slurm = exp / "slurm"
    assert out.splitlines() == [
        "15 runs (3 splits x 5 sigmas, 2 epochs each): 0 already finished, 15 to train",
        f"wrote {slurm / 'SumMe_grid.sbatch'} and {slurm / 'SumMe_evaluate.sbatch'}",
        f"submitted job {array}: 15 training runs, array tasks 0-14 (logs: {slurm}/SumMe_train_{array}_<task>.out)",
        f"submitted job {evaluation}: the evaluation, once every task of job {array} has succeeded (the table: "
        f"{slurm}/SumMe_evaluate_{evaluation}.out; the report: {exp / 'SumMe_best_models.json'})"]
    again = run_grid(*grid_args(ref.data), "--exp_dir", exp, "--slurm", env=cluster)
    assert "still queued or running" in again.communicate()[1] and again.returncode == 2

    wait_for([array, evaluation], cluster)
    for job in (f"{array}_0", evaluation):  # the --sbatch options reached both jobs
        shown = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True, env=cluster).stdout
        assert "TimeLimit=00:30:00" in shown and "JobState=COMPLETED" in shown
    script = (slurm / "SumMe_grid.sbatch").read_text()
    assert script.count(" --resume ") == 15 and "#SBATCH --requeue\n" in script
    assert sorted(p.name for p in slurm.glob(f"SumMe_train_{array}_*.out")) == sorted(
        f"SumMe_train_{array}_{task}.out" for task in range(15))
    assert neutral((slurm / f"SumMe_evaluate_{evaluation}.out").read_text(), exp) == ref.table
    assert training_outputs(exp) == ref.outputs
    assert evaluation_outputs(exp) == ref.evaluated

    remove_run(exp, "0.8", 2)  # a partial grid: only its missing run is submitted, then the evaluation again
    (exp / "SumMe_best_models.json").unlink()
    out, array, evaluation = submit(ref, exp, cluster)
    assert out.splitlines()[0] == "15 runs (3 splits x 5 sigmas, 2 epochs each): 14 already finished, 1 to train"
    assert f"submitted job {array}: 1 training run, array tasks 13 " in out
    wait_for([array, evaluation], cluster)
    assert neutral((slurm / f"SumMe_evaluate_{evaluation}.out").read_text(), exp) == ref.table
    assert training_outputs(exp) == ref.outputs
    assert json.loads((exp / "SumMe_best_models.json").read_text()) == json.loads(
        ref.evaluated[0]["SumMe_best_models.json"])
