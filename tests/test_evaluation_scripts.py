"""compute_fscores.py, export_tensorboard_log.py and the whole-experiment chain, on the golden SumMe-layout h5."""
import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from common.errors import UserError
from evaluation import choose_best_model, compute_fscores, evaluate_experiment, export_tensorboard_log
from evaluation.annotations import check_annotations
from evaluation.eval_data import EvalDataset
from evaluation.evaluation_metrics import evaluate_summary
from evaluation.experiment import find_runs
from evaluation.generate_summary import generate_summary
from evaluation.report import choose
from evaluation.scalars import EVALUATION_EVENTS, export_scalars
from tests.golden_inputs import GOLDEN
from tests.helpers import write_events, write_score_files

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIGMAS = ["0.5", "0.6", "0.7", "0.8", "0.9"]


@pytest.fixture(scope="module")
def h5_path():
    return GOLDEN / "train0_summe.h5"


SPLITS = GOLDEN / "train0_summe_splits.json"


@pytest.fixture(scope="module")
def n_steps(h5_path):
    with h5py.File(h5_path, "r") as h5:
        return {key: len(h5[key]["picks"]) for key in h5}


def write_scores(results, dataset, keys, n_steps, epochs, recipes, seed):
    """Score files {dataset}_{e}.json for e in epochs; some epochs take few distinct values (ties)."""
    write_score_files(results, dataset, {
        e: {key: recipes.scores(n_steps[key], seed + 100 * (e + 1) + k, ties=e % 3 == 0).tolist()
            for k, key in enumerate(keys)} for e in epochs})


def one_at_a_time(results, dataset, h5_path, epochs, eval_method):
    """The mean F-score per score file, one video and one file at a time (the golden-checked single-video API)."""
    out = []
    with h5py.File(h5_path, "r") as h5:
        for e in epochs:
            data = json.loads((results / f"{dataset}_{e}.json").read_text())
            f = []
            for key, scores in data.items():
                g = h5[key]
                summary = generate_summary([g["change_points"][()]], [np.asarray(scores)], [g["n_frames"][()]],
                                           [g["picks"][()]])[0]
                f.append(evaluate_summary(summary, g["user_summary"][()], eval_method))
            out.append(np.mean(f))
    return out


@pytest.mark.parametrize("eval_method", ["max", "avg"])
def test_compute_fscores_matches_one_at_a_time(recipes, h5_path, n_steps, tmp_path, capsys, eval_method):
    results = tmp_path / "results"
    write_scores(results, "SumMe", ["video_3", "video_1", "video_8"], n_steps, range(-1, 11), recipes, 500)
    compute_fscores.main(["--path", str(results), "--dataset", "SumMe", "--eval", eval_method,
                          "--dataset_file", str(h5_path)])
    expected = [float(v) for v in one_at_a_time(results, "SumMe", h5_path, range(-1, 11), eval_method)]
    name = "f_scores.txt" if eval_method == "max" else "f_scores.avg.txt"  # avg is not SumMe's protocol
    assert sorted(p.name for p in results.glob("f_scores*")) == [name]
    lines = (results / name).read_text().splitlines()
    assert lines == [repr(v) for v in expected]
    out, err = capsys.readouterr()
    assert out.startswith(f"[epoch -1] f_score: {expected[0]!r}\n[epoch 0] f_score: ")
    assert f"[epoch 10] f_score: {expected[11]!r}\nwrote {results / name}\n" in out
    assert err.startswith("warning: SumMe evaluated with avg: ") == (eval_method == "avg")


def test_compute_fscores_script(recipes, h5_path, n_steps, tmp_path):
    """The script runs from another directory; errors exit with status 2 and one line naming the file."""
    results = tmp_path / "results"
    write_scores(results, "SumMe", ["video_2"], n_steps, range(-1, 2), recipes, 7)
    script = os.path.join(REPO, "evaluation", "compute_fscores.py")
    command = [sys.executable, script, "--path", str(results), "--dataset", "SumMe", "--eval", "max",
               "--dataset_file", str(h5_path)]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len((results / "f_scores.txt").read_text().splitlines()) == 3
    (results / "SumMe_1.json").write_text('{"video_2": [0.1, 0.')
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {results / 'SumMe_1.json'}: not valid JSON, truncated or corrupt?")
    assert len(done.stderr.strip().splitlines()) == 1


def fscores_error(results, h5_path):
    with EvalDataset(h5_path) as data, pytest.raises(UserError) as error:
        compute_fscores.compute_fscores(results, "SumMe", "max", data)
    return str(error.value)


def test_compute_fscores_errors(recipes, h5_path, n_steps, tmp_path):
    results = tmp_path / "results"
    assert fscores_error(results, h5_path) == f"{results}: results folder not found"
    results.mkdir()
    assert fscores_error(results, h5_path) == f"{results}: no SumMe_{{epoch}}.json score files"
    write_scores(results, "SumMe", ["video_4"], n_steps, [-1, 0, 2], recipes, 3)
    assert fscores_error(results, h5_path).startswith(f"{results / 'SumMe_1.json'}: missing")
    write_scores(results, "SumMe", ["video_4"], n_steps, [1], recipes, 3)
    (results / "SumMe_0.json").write_text(json.dumps({"video_4": [0.5] * 10}))
    assert fscores_error(results, h5_path) == (f"{results / 'SumMe_0.json'}: video_4 has 10 scores, expected "
                                               f"{n_steps['video_4']} (n_steps of video_4 in {h5_path})")
    (results / "SumMe_0.json").write_text(json.dumps({"video_99": [0.5] * 10}))
    assert fscores_error(results, h5_path) == (f"{results / 'SumMe_0.json'}: video video_99 is not in the dataset "
                                               f"{h5_path}")
    (results / "SumMe_0.json").write_text(json.dumps({"video_4": ["a"] * n_steps["video_4"]}))
    assert fscores_error(results, h5_path) == (f"{results / 'SumMe_0.json'}: video_4: expected a non-empty list of "
                                               f"numbers")
    (results / "SumMe_0.json").write_text('{"video_4": [NaN]}')
    assert fscores_error(results, h5_path) == f"{results / 'SumMe_0.json'}: video_4: contains NaN or infinite scores"
    (results / "SumMe_0.json").write_text('[]')
    assert fscores_error(results, h5_path).startswith(f"{results / 'SumMe_0.json'}: expected a JSON object")
    with pytest.raises(UserError, match=f"{tmp_path / 'none.h5'}: dataset file not found"):
        EvalDataset(tmp_path / "none.h5")


def test_h5_missing_fields(tmp_path, h5_path, recipes, n_steps):
    broken = tmp_path / "broken.h5"
    with h5py.File(h5_path, "r") as source, h5py.File(broken, "w") as h5:
        source.copy("video_2", h5)
        del h5["video_2"]["change_points"]
    results = tmp_path / "results"
    write_scores(results, "SumMe", ["video_2"], n_steps, [-1], recipes, 1)
    assert fscores_error(results, broken) == f"{broken}: video_2: no 'change_points' dataset"


def test_export_tensorboard_log(tmp_path, capsys):
    log_dir = tmp_path / "logs" / "split0"
    losses = [0.3, 0.123456789, 0.05]
    write_events(log_dir, losses)
    export_tensorboard_log.main([str(log_dir)])
    assert capsys.readouterr().out == f"wrote {log_dir / 'scalars.csv'}\n"
    lines = (log_dir / "scalars.csv").read_text().splitlines()
    assert lines[0] == "wall_time,step,loss_epoch" and len(lines) == 4
    for step, (line, loss) in enumerate(zip(lines[1:], losses)):
        wall_time, logged_step, value = line.split(",")
        assert float(wall_time) > 1e9 and logged_step == str(step)
        assert value == repr(float(np.float32(loss)))
    out_dir = tmp_path / "elsewhere"
    export_tensorboard_log.main([str(log_dir), str(out_dir)])
    assert (out_dir / "scalars.csv").read_text() == (log_dir / "scalars.csv").read_text()


def test_export_errors(tmp_path):
    with pytest.raises(UserError, match=f"{tmp_path / 'none'}: log folder not found"):
        export_scalars(tmp_path / "none")
    with pytest.raises(UserError, match=f"{tmp_path}: no TensorBoard event files"):
        export_scalars(tmp_path)
    write_events(tmp_path / "other", [1.0], tag="loss")
    with pytest.raises(UserError, match="the TensorBoard events have no 'loss_epoch' scalar"):
        export_scalars(tmp_path / "other")


@pytest.fixture(scope="module")
def experiment(recipes, n_steps, tmp_path_factory):
    """A finished SumMe experiment on the golden h5 (5 sigmas x 5 splits, 24 epochs), with TensorBoard events."""
    splits = json.loads((GOLDEN / "train0_summe_splits.json").read_text())
    root = tmp_path_factory.mktemp("experiment") / "exp"
    rng = np.random.default_rng(0)
    for s, sigma in enumerate(SIGMAS):
        for k, split in enumerate(splits):
            base = root / f"reg{sigma}" / "SumMe"
            write_events(base / "logs" / f"split{k}", (0.3 * np.exp(-np.arange(24) / 5) + 0.02 * rng.random(24)))
            write_scores(base / "results" / f"split{k}", "SumMe", split["test_keys"], n_steps, range(-1, 24),
                         recipes, 1000 * s + 100 * k)
    return root


def test_chain_on_an_experiment(experiment, h5_path, tmp_path, capsys):
    """sh choose_best_model.sh gives the F-scores of compute_fscores and the report of choose_best_model."""
    exp = tmp_path / "exp"
    shutil.copytree(experiment, exp)
    done = subprocess.run(["bash", os.path.join(REPO, "evaluation", "choose_best_model.sh"), str(exp), "SumMe", "max",
                           "--dataset_file", str(h5_path), "--splits_file", str(SPLITS)], cwd=tmp_path,
                          capture_output=True, text=True,
                          env=dict(os.environ, PYTHON=sys.executable))
    assert done.returncode == 0, done.stderr
    for sigma in SIGMAS:
        for k in range(5):
            results = exp / f"reg{sigma}" / "SumMe" / "results" / f"split{k}"
            assert (results / "f_scores.txt").read_text().splitlines() == [
                repr(float(v)) for v in one_at_a_time(results, "SumMe", h5_path, range(-1, 24), "max")]
            assert (exp / f"reg{sigma}" / "SumMe" / "logs" / f"split{k}" / "scalars.csv").is_file()
    choose_best_model.main(["--exp_dir", str(exp), "--dataset", "SumMe", "--splits_file", str(SPLITS),
                            "--dataset_file", str(h5_path)])
    assert done.stdout == capsys.readouterr().out + (f"wrote {exp / 'SumMe_curves.png'} and the F-scores of every "
                                                     f"epoch into each run's TensorBoard log\n")
    report = json.loads((exp / "SumMe_best_models.json").read_text())
    assert [entry["split"] for entry in report["splits"]] == [0, 1, 2, 3, 4]
    assert all(20 <= entry["epoch"] <= 23 for entry in report["splits"])
    assert f"Avg values :=> F1: {report['f_score']:.2f}\n" in done.stdout
    assert report["warnings"] == [] and done.stderr == ""


def test_a_random_backbone_dataset_is_said_to_mean_nothing(experiment, h5_path, tmp_path, capsys):
    """A dataset made with make_dataset_from_videos.py --random_backbone: the warning before and after the report
    (whose table would hide the first), and in the report's JSON."""
    exp, h5 = tmp_path / "exp", tmp_path / "random.h5"
    shutil.copytree(experiment, exp)
    shutil.copyfile(h5_path, h5)
    with h5py.File(h5, "a") as data:
        data.attrs["backbone"] = "random"
    evaluate_experiment.main([str(exp), "SumMe", "max", "--dataset_file", str(h5), "--splits_file", str(SPLITS),
                              "--workers", "1"])
    warning = (f"{h5}: its features come from a GoogLeNet of random weights (make_dataset_from_videos.py "
               f"--random_backbone): what is trained or evaluated on it means nothing")
    assert capsys.readouterr().err.splitlines() == [f"warning: {warning}"] * 2
    assert json.loads((exp / "SumMe_best_models.json").read_text())["warnings"] == [warning]


@pytest.mark.slow
def test_chain_in_parallel_gives_the_same_files(experiment, h5_path, tmp_path, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    shutil.copytree(experiment, one)
    shutil.copytree(experiment, two)
    for exp, workers in ((one, "1"), (two, "2")):
        evaluate_experiment.main([str(exp), "SumMe", "max", "--dataset_file", str(h5_path), "--splits_file",
                                  str(SPLITS), "--workers", workers])
    for path in one.rglob("*"):
        if path.suffix in (".txt", ".csv") or path.name == "SumMe_best_models.json":
            assert path.read_bytes() == (two / path.relative_to(one)).read_bytes(), path
    out = capsys.readouterr().out
    first, second = out.split("wrote ")[0], out.split("\n", out.count("\n") // 2)[-1]
    assert first.strip() and first in second


@pytest.mark.slow
def test_another_reduction_is_warned_about_and_replaces_nothing(experiment, h5_path, tmp_path, capsys):
    """SumMe with avg (TVSum's reduction) runs, says twice that it is not the paper's protocol, writes its report,
    curves and F-scores under names of their own and records the reduction; the max report, its curves, its F-scores
    and the TensorBoard logs stay as they were."""
    exp = tmp_path / "exp"
    shutil.copytree(experiment, exp)
    evaluate_experiment.main([str(exp), "SumMe", "max", "--dataset_file", str(h5_path), "--splits_file", str(SPLITS),
                              "--workers", "1"])
    capsys.readouterr()
    before = {path: path.read_bytes() for path in exp.rglob("*") if path.is_file()}
    evaluate_experiment.main([str(exp), "SumMe", "avg", "--dataset_file", str(h5_path), "--splits_file", str(SPLITS),
                              "--workers", "1"])
    out, err = capsys.readouterr()
    warning = ("warning: SumMe evaluated with avg: the paper reduces SumMe's F-scores over the user summaries with "
               "max, so these numbers are not comparable with the paper's; they go to files named *.avg.* and "
               "leave the max results as they are")
    assert err.splitlines().count(warning) == 2
    assert all(path.read_bytes() == data for path, data in before.items())
    new = sorted(str(path.relative_to(exp)) for path in exp.rglob("*") if path.is_file() and path not in before)
    assert new == sorted(["SumMe_best_models.avg.json", "SumMe_curves.avg.png", "SumMe_baselines.avg.json"] +
                         [f"reg{s}/SumMe/results/split{k}/f_scores.avg.txt" for s in SIGMAS for k in range(5)])
    ours, paper = (json.loads((exp / name).read_text()) for name in ("SumMe_best_models.avg.json",
                                                                       "SumMe_best_models.json"))
    assert (ours["eval_method"], paper["eval_method"]) == ("avg", "max") and ours["f_score"] != paper["f_score"]
    assert f"wrote {exp / 'SumMe_curves.avg.png'} (the TensorBoard logs keep the F-scores of max)" in out


def test_chain_errors(experiment, h5_path, tmp_path):
    exp = tmp_path / "exp"
    shutil.copytree(experiment, exp)
    log_dir = exp / "reg0.8" / "SumMe" / "logs" / "split3"
    shutil.rmtree(log_dir)
    log_dir.mkdir()
    with pytest.raises(UserError, match=f"{log_dir}: no TensorBoard event files and no scalars.csv"):
        evaluate_experiment.evaluate_experiment(exp, "SumMe", "max", h5_path, SPLITS)
    with pytest.raises(UserError, match=f"{tmp_path / 'no.h5'}: dataset file not found"):
        evaluate_experiment.evaluate_experiment(experiment, "SumMe", "max", tmp_path / "no.h5", SPLITS)
    with pytest.raises(UserError, match=f"{tmp_path / 'no.json'}: splits file not found"):
        evaluate_experiment.evaluate_experiment(experiment, "SumMe", "max", h5_path, tmp_path / "no.json")


def test_annotations_checked_against_the_h5(tmp_path):
    anno = tmp_path / "anno.tsv"
    anno.write_text("a\tX\t" + ",".join(["1"] * 45) + "\n")
    check_annotations({"video_1": np.ones((1, 45))}, anno, {"video_1": 3}, "d.h5")
    with pytest.raises(UserError, match=f"{anno}: video_1 has 45 annotated frames \\(3 sub-sampled\\), but 4 scores "
                                        f"\\(n_steps\\) in d.h5: the annotation file does not match the dataset"):
        check_annotations({"video_1": np.ones((1, 45))}, anno, {"video_1": 4}, "d.h5")
    with pytest.raises(UserError, match=f"{anno}: no annotations for video_2 of d.h5"):
        check_annotations({"video_1": np.ones((1, 45))}, anno, {"video_2": 3}, "d.h5")


def tvsum_h5(path, frame_counts):
    """An h5 with the evaluation fields of TVSum-sized videos {key: n_frames} (shots of 60 frames, 5 users)."""
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as h5:
        for key, n_frames in frame_counts.items():
            starts = np.arange(0, n_frames, 60)
            group = h5.create_group(key)
            group["change_points"] = np.stack([starts, np.minimum(starts + 59, n_frames - 1)], axis=1)
            group["n_frames"] = n_frames
            group["picks"] = np.arange(0, n_frames, 15)
            group["n_steps"] = len(group["picks"])
            group["user_summary"] = (rng.random((5, n_frames)) < 0.15).astype(np.float32)
    return {key: -(-n // 15) for key, n in frame_counts.items()}


@pytest.mark.slow
def test_tvsum_chain_with_annotations(anno_path, recipes, tmp_path):
    """--dataset_file and --anno reach both steps; the report has the correlations of choose_best_model."""
    from evaluation.annotations import load_tvsum_annotations
    anno = anno_path
    keys = ["video_26", "video_38", "video_45"]  # three of the shortest TVSum videos
    counts = {key: users.shape[1] for key, users in load_tvsum_annotations(anno).items() if key in keys}
    h5 = tmp_path / "tvsum.h5"
    n_steps = tvsum_h5(h5, counts)
    exp = tmp_path / "exp"
    rng = np.random.default_rng(1)
    for s, sigma in enumerate(SIGMAS):
        for k in range(5):
            base = exp / f"reg{sigma}" / "TVSum"
            write_events(base / "logs" / f"split{k}", 0.3 * np.exp(-np.arange(4) / 2) + 0.05 * rng.random(4))
            write_scores(base / "results" / f"split{k}", "TVSum", [keys[k % 3], keys[(k + 1) % 3]], n_steps,
                         range(-1, 4), recipes, 5000 + 100 * s + 10 * k)
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps([{"train_keys": [keys[(k + 2) % 3]], "test_keys": [keys[k % 3], keys[(k + 1) % 3]]}
                                  for k in range(5)]))
    done = subprocess.run(["bash", os.path.join(REPO, "evaluation", "choose_best_model.sh"), str(exp), "TVSum", "avg",
                           "--dataset_file", str(h5), "--splits_file", str(splits), "--anno", str(anno)],
                          capture_output=True, text=True,
                          env=dict(os.environ, PYTHON=sys.executable))
    assert done.returncode == 0, done.stderr
    assert "Spearman's \u03c1: " in done.stdout and "=" * 84 in done.stdout
    report = json.loads((exp / "TVSum_best_models.json").read_text())
    baselines = json.loads((exp / "TVSum_baselines.json").read_text())["splits"]
    with EvalDataset(h5) as data:
        direct = choose(find_runs(exp, "TVSum", 5), load_tvsum_annotations(anno), anno, data, baselines)[0]
    direct = json.loads(json.dumps(direct))
    assert report == {**direct, "warnings": []} and all(isinstance(entry["rho"], float) for entry in report["splits"])

    wrong = tmp_path / "anno.tsv"  # video_38 annotated with 15 frames more than the h5 has
    wrong.write_text("".join(f"id{k}\tX\t{','.join(['2'] * (counts.get(f'video_{k}', 30) + 15 * (k == 38)))}\n"
                             for k in range(1, 51)))
    with pytest.raises(UserError, match=f"{wrong}: video_38 has {counts['video_38'] + 15} annotated frames "
                                        f"\\({n_steps['video_38'] + 1} sub-sampled\\), but {n_steps['video_38']} "
                                        f"scores \\(n_steps\\) in {h5}: the annotation file does not match "
                                        f"the dataset"):
        evaluate_experiment.evaluate_experiment(exp, "TVSum", "avg", h5, splits, wrong, workers=1)


def test_chain_usage():
    script = os.path.join(REPO, "evaluation", "choose_best_model.sh")
    done = subprocess.run(["bash", script, "exp"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("usage: bash evaluation/choose_best_model.sh EXP_DIR")
    helped = subprocess.run(["bash", script, "--help"], capture_output=True, text=True,
                            env=dict(os.environ, PYTHON=sys.executable))
    assert helped.returncode == 0 and helped.stdout.startswith("usage: bash evaluation/choose_best_model.sh")
    assert "--splits_file" in helped.stdout and "--workers" in helped.stdout


def test_a_reader_that_stops_early_is_not_an_error(recipes, h5_path, n_steps, tmp_path):
    results = tmp_path / "results"
    write_scores(results, "SumMe", ["video_2"], n_steps, range(-1, 300), recipes, 7)
    command = (f"{sys.executable} {REPO}/evaluation/compute_fscores.py --path {results} --dataset SumMe --eval max "
               f"--dataset_file {h5_path} | head -1")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
    assert done.stdout.startswith("[epoch -1] f_score: ") and done.stdout.count("\n") == 1
    assert done.stderr == ""


@pytest.mark.slow
def test_a_log_of_scalars_csv_only_is_evaluated_again(experiment, h5_path, tmp_path):
    """A run that has scalars.csv and no training events (the authors' code) gets the evaluation's event file; the
    next evaluation still takes its scalars.csv as it is rather than exporting the evaluation's events."""
    exp = tmp_path / "exp"
    shutil.copytree(experiment, exp)
    logs = exp / "reg0.7" / "SumMe" / "logs" / "split2"
    export_scalars(logs)
    for event in logs.glob("events.out.tfevents.*"):
        event.unlink()
    csv_text = (logs / "scalars.csv").read_text()
    for _ in range(2):
        evaluate_experiment.evaluate_experiment(exp, "SumMe", "max", h5_path, SPLITS)
        assert (logs / "scalars.csv").read_text() == csv_text
        assert [p.name for p in logs.glob("events.out.tfevents.*")] == [EVALUATION_EVENTS]
