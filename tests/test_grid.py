"""The split scripts' grid on a tiny dataset: --print_grid, --jobs (bit-identical to the sequential loop), a grid
interrupted in the middle that finishes only what is missing, --seeds, and the mean ± std report over seeds."""
import json
import os
import re
import shlex
import shutil
import signal
import sys
import time

import numpy as np
import pytest

from common.errors import UserError
from evaluation.experiment import seed_experiments
from evaluation.report import ReportInputs, report_experiment, summarize_seeds
from experiments import run_splits
from tests.grid_helpers import (
    REPO,
    evaluate,
    evaluation_outputs,
    finish,
    grid_args,
    references,
    remove_run,
    run_grid,
    tiny_dataset,
    training_outputs,
)

SIGMAS = ["0.5", "0.6", "0.7", "0.8", "0.9"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory)


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    return references(tmp_path_factory)


def runner(*args):
    """experiments/run_splits.py as run_summe_splits.sh calls it, in this process."""
    return run_splits.main(["--video_type", "SumMe", "--batch_size", "20", *map(str, args)])


@pytest.mark.slow
def test_reference_loops(ref):
    assert ref.plain_out.startswith("15 runs (3 splits x 5 sigmas, 2 epochs each): 0 already finished, 15 to train\n"
                                    "== split 0, "
                                    "sigma 0.5\n")
    assert ref.seeds_out.startswith("15 runs (1 seed x 3 splits x 5 sigmas, 2 epochs each): 0 already finished, "
                                    "15 to train\n"
                                    "== seed 7, split 0, sigma 0.5\n")
    assert "all runs finished; evaluate them with: bash " in ref.plain_out
    assert sorted(p.name for p in ref.seeds.iterdir()) == ["seed7"]
    assert len(ref.outputs[0]) == len(ref.seed7_outputs[0]) == 15 * (3 + 2)  # epochs -1..1, 2 checkpoints per run
    assert ref.outputs[0]["reg0.5/SumMe/results/split0/SumMe_-1.json"] != \
        ref.seed7_outputs[0]["reg0.5/SumMe/results/split0/SumMe_-1.json"]


def test_print_grid(data, tmp_path, capsys):
    exp = tmp_path / "exp"
    assert runner(*grid_args(data), "--exp_dir", exp, "--seeds", "3,1", "--threads", "2", "--print_grid") == 0
    lines = capsys.readouterr().out.splitlines()
    expected = ["OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 " + shlex.join([
        sys.executable, str(REPO / "model" / "main.py"), "--split_index", str(split), "--video_type", "SumMe",
        "--reg_factor", sigma, "--n_epochs", "2", "--batch_size", "4", "--resume", *grid_args(data)[:6],
        "--device", "cpu", "--seed", str(seed), "--exp_dir", str(exp / f"seed{seed}")])
        for seed in (3, 1) for split in range(3) for sigma in SIGMAS]
    assert lines == expected
    assert not exp.exists()


@pytest.mark.parametrize("args, message", [
    (["--seeds", "1,2", "--seed", "3"], "--seed and --seeds exclude each other"),
    (["--slurm"], "sbatch: not found on PATH"),
])
def test_grid_user_errors(data, tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match=message):
        runner(*grid_args(data), "--exp_dir", tmp_path / "exp", *args)
    assert not (tmp_path / "exp").exists()


@pytest.mark.parametrize("args, message", [
    (["--seeds", "1,1"], "argument --seeds: a seed is repeated in '1,1'"),
    (["--seeds", "1,x"], "argument --seeds: expected integers separated by commas"),
    (["--jobs", "0"], "argument --jobs: expected a positive integer, got '0'"),
    (["--jobs", "2", "--slurm"], "argument --slurm: not allowed with argument --jobs"),
    (["--sbatch", "-p x"], "--sbatch goes with --slurm"),
    (["--lr", "-1"], "argument --lr: lr must satisfy 0 < lr, got -1"),  # main.py's own check, before any run
])
def test_grid_argument_errors(data, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        runner(*grid_args(data), "--exp_dir", tmp_path / "exp", *args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "exp").exists()


def kill_when(process, marker, timeout=300):
    """SIGKILL the runner and its runs (its process group) as soon as `marker` exists."""
    deadline = time.monotonic() + timeout
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    assert marker.exists()


@pytest.mark.slow
def test_jobs_interrupted_grid_and_seeds(ref, tmp_path):
    """Two seed experiments missing two runs each, trained with --jobs 2 and killed in the middle: the next start
    trains only what is missing, and the files are those of the sequential loop, bit for bit."""
    exp = tmp_path / "exp"
    shutil.copytree(ref.trained / "plain", exp / "seed12345")
    shutil.copytree(ref.trained / "seed7", exp / "seed7")
    missing = [(12345, "0.6", 1), (12345, "0.9", 2), (7, "0.5", 0), (7, "0.8", 2)]
    for seed, sigma, split in missing:
        remove_run(exp / f"seed{seed}", sigma, split)
    args = [*grid_args(ref.data), "--exp_dir", exp, "--seeds", "12345,7", "--jobs", "2", "--threads", "1"]

    first = exp / "seed12345" / "reg0.6" / "SumMe" / "models" / "split1" / "last_epoch1.pt"
    kill_when(run_grid(*args, start_new_session=True), first)
    unfinished = [(seed, sigma, split) for seed, sigma, split in missing
                  if not (exp / f"seed{seed}" / f"reg{sigma}" / "SumMe" / "models" / f"split{split}" /
                          "last_epoch1.pt").exists()]
    assert 1 <= len(unfinished) <= 3

    out = finish(run_grid(*args))
    assert out.splitlines()[0] == (f"30 runs (2 seeds x 3 splits x 5 sigmas, 2 epochs each): "
                                   f"{30 - len(unfinished)} already finished, {len(unfinished)} to train")
    assert ("2 runs at once, 1 thread each" in out) == (len(unfinished) > 1)
    done = re.findall(r"^== seed (\d+), split (\d), sigma ([\d.]+)(?:: done in [\d.]+ s)?$", out, re.M)
    assert sorted(done) == sorted((str(seed), str(split), sigma) for seed, sigma, split in unfinished)
    assert training_outputs(exp / "seed12345") == ref.outputs
    assert training_outputs(exp / "seed7") == ref.seed7_outputs

    table = evaluate(exp, ref.data)
    curves = "wrote EXP/SumMe_curves.png and the F-scores of every epoch into each run's TensorBoard log\n"
    assert ref.table.endswith(curves)
    plain = ref.table[:-len(curves)]
    assert plain.replace("EXP/", "EXP/seed12345/") in table  # the plain experiment's evaluation, unchanged
    assert evaluation_outputs(exp / "seed12345") == ref.evaluated
    per_seed = [json.loads((exp / f"seed{seed}" / "SumMe_best_models.json").read_text()) for seed in (7, 12345)]
    summary = json.loads((exp / "SumMe_best_models.json").read_text())
    assert summary["seeds"] == [7, 12345] and table.index("== seed 7: EXP/seed7\n") < table.index("== seed 12345")
    for entry, *seeds in zip(summary["splits"], *(report["splits"] for report in per_seed)):
        values = [seed["f_score"] for seed in seeds]
        assert entry["f_score"] == {"mean": round(np.mean(values), 2), "std": round(np.std(values, ddof=1), 2),
                                    "seeds": values}
        assert entry["sigma"] == [seed["sigma"] for seed in seeds]
        assert entry["rho"]["seeds"] == [seed["rho"] for seed in seeds]  # SumMe's, against the mean user summary
    values = [report["f_score"] for report in per_seed]
    mean, std = round(np.mean(values), 2), round(np.std(values, ddof=1), 2)
    assert summary["f_score"] == {"mean": mean, "std": std, "seeds": values}
    assert f"\nAvg values :=> F1: {mean:.2f} \u00b1 {std:.2f} (seeds: {values[0]:.2f}, {values[1]:.2f}) Spearman's " \
           f"\u03c1: " in table
    assert "\nwrote EXP/SumMe_best_models.json\n" in table
    assert table.endswith(curves.replace("EXP/", "EXP/seed7/") + curves.replace("EXP/", "EXP/seed12345/"))


@pytest.mark.slow
def test_jobs_stop_at_the_first_failure(ref, tmp_path):
    """A failing run stops the grid: no other run starts, the running one is stopped, the error names the run."""
    exp = tmp_path / "exp"
    shutil.copytree(ref.trained / "plain", exp)
    for sigma in ("0.5", "0.6", "0.7", "0.8"):
        remove_run(exp, sigma, 0)
    broken = exp / "reg0.6" / "SumMe" / "models" / "split0" / "resume.pt"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not a resume file")  # an interrupted run whose resume state main.py refuses
    process = run_grid(*grid_args(ref.data), "--exp_dir", exp, "--jobs", "2")
    out, err = process.communicate()
    assert process.returncode == 2
    assert err.splitlines()[-1] == "error: training split 0, sigma 0.6 failed (exit status 2); stopping"
    assert "== split 0, sigma 0.6: failed (exit status 2) in " in out and "not a PyTorch resume file" in out
    assert not (exp / "reg0.8" / "SumMe" / "results" / "split0").exists()


@pytest.mark.slow
def test_runs_of_another_length_are_refused_before_anything_trains(ref, tmp_path):
    exp = tmp_path / "exp"
    shutil.copytree(ref.trained / "plain", exp)
    remove_run(exp, "0.5", 0)
    process = run_grid(*grid_args(ref.data), "--exp_dir", exp, "--n_epochs", "5")
    out, err = process.communicate()
    assert process.returncode == 2 and out == ""
    assert err == ("error: 14 of the 15 runs (split 0, sigma 0.6, ...) are already finished with another --n_epochs "
                   "than this grid's; use another --exp_dir, or --overwrite to train them again\n")
    assert not (exp / "reg0.5" / "SumMe" / "results" / "split0").exists()


BASELINES = {"random_f_score": 20.0, "human_f_score": 50.0, "human_rho": 0.2, "human_tau": 0.17}


def report(f_scores, rhos=None, taus=None, sigma=0.6):
    """A choose_best_model report with the given per-split values (the averages are their means, rounded) and the
    same baselines in every split (PoR = F1 / 20 x 100)."""
    splits = [{"split": k, "sigma": sigma, "epoch": 20 + k, "f_score": f, "rho": None if rhos is None else rhos[k],
               "tau": None if taus is None else taus[k], "best_epoch": 30, "best_epoch_f_score": f + 1,
               "por": f * 5, **BASELINES} for k, f in enumerate(f_scores)]
    def average(values):
        return None if values is None or None in values else round(float(np.mean(values)), 2)
    return {"dataset": "TVSum", "eval_method": "avg", "correlation": rhos is not None, "splits": splits,
            "f_score": average(f_scores), "rho": average(rhos), "tau": average(taus),
            "best_epoch_f_score": average(f_scores) + 1, "por": float(np.mean(f_scores)) * 5, **BASELINES}


def test_seed_summary_with_correlations():
    first = report([60.0, 61.5, 59.25, 62.0, 58.0], [0.1, 0.2, 0.15, 0.12, 0.3], [0.05, 0.1, 0.1, 0.08, 0.2])
    second = report([61.0, 60.5, 60.75, 61.0, 57.0], [0.2, 0.1, 0.25, 0.14, 0.1], [0.1, 0.05, 0.2, 0.1, 0.05],
                    sigma=0.8)
    summary, lines = summarize_seeds("TVSum", [1, 2], [first, second])
    assert summary["splits"][0] == {"split": 0, "sigma": [0.6, 0.8], "epoch": [20, 20],
                                    "f_score": {"mean": 60.5, "std": 0.71, "seeds": [60.0, 61.0]},
                                    "rho": {"mean": 0.15, "std": 0.071, "seeds": [0.1, 0.2]},
                                    "tau": {"mean": 0.075, "std": 0.035, "seeds": [0.05, 0.1]},
                                    "por": {"mean": 302.5, "std": 3.54, "seeds": [300.0, 305.0]}, **BASELINES}
    assert summary["f_score"] == {"mean": 60.1, "std": 0.07, "seeds": [60.15, 60.05]}
    assert summary["por"] == {"mean": 300.5, "std": 0.35, "seeds": [300.75, 300.25]}
    assert {key: summary[key] for key in BASELINES} == BASELINES
    assert lines[-1] == ("Avg values :=> PoR: 300.50 \u00b1 0.35 (seeds: 300.75, 300.25)  random F1: 20.00  human F1: "
                         "50.00  human \u03c1: 0.200  human \u03c4: 0.170")
    assert lines[0] == "Over 2 seeds (1, 2): mean \u00b1 sample standard deviation, then each seed's value"
    assert lines[1] == ("[Split: 0] Fscore: 60.50 \u00b1 0.71 (seeds: 60.00, 61.00) Spearman's \u03c1: 0.150 \u00b1 "
                        "0.071 (seeds: 0.100, 0.200) Kendall's \u03c4: 0.075 \u00b1 0.035 (seeds: 0.050, 0.100)")
    assert ("Avg values (best test epoch, NOT the paper's protocol) :=> F1: 61.10 \u00b1 0.07 (seeds: 61.15, "
            "61.05)") in lines

    alone, lines = summarize_seeds("TVSum", [5], [first])
    assert alone["f_score"] == {"mean": first["f_score"], "std": None, "seeds": [first["f_score"]]}
    assert "Avg values :=> F1: 60.15 \u00b1 n/a (seeds: 60.15) Spearman's \u03c1: 0.170 \u00b1 n/a (seeds: 0.170) " \
           "Kendall's \u03c4: 0.110 \u00b1 n/a (seeds: 0.110)" in lines
    undefined = report([60.0] * 5, [None] * 5, [0.1] * 5)
    assert summarize_seeds("TVSum", [1, 2], [first, undefined])[0]["splits"][0]["rho"] == \
        {"mean": None, "std": None, "seeds": [0.1, None]}


def test_seed_experiments(tmp_path):
    for name in ("seed10", "seed9", "seed-1", "seeds", "slurm", "seedx"):
        (tmp_path / name).mkdir()
    assert seed_experiments(tmp_path) == [(-1, tmp_path / "seed-1"), (9, tmp_path / "seed9"),
                                                            (10, tmp_path / "seed10")]
    (tmp_path / "reg0.5").mkdir()  # a plain experiment: its seed folders, if any, are not experiments
    assert seed_experiments(tmp_path) == []
    shutil.rmtree(tmp_path / "reg0.5")
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps([{"train_keys": ["video_1"], "test_keys": ["video_2"]}] * 5))
    with pytest.raises(UserError, match=f"{tmp_path / 'seed-1'}: no SumMe runs"):
        report_experiment(tmp_path, "SumMe", ReportInputs(tmp_path / "none.h5", splits, "max"))
