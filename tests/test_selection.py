"""Model selection (docs/method.md, "Model selection") on finished experiments, against the reference's printout."""
import contextlib
import csv
import io
import json
import re
import shutil

import numpy as np
import pytest

from common.errors import UserError
from data.make_dataset import TVSUM_FRAMES, make_dataset
from evaluation import choose_best_model
from evaluation.annotations import load_annotations
from evaluation.experiment import find_runs
from evaluation.report import ReportInputs, choose, report_experiment
from evaluation.selection import improvement, select_epoch
from tests.golden_inputs import GOLDEN
from tests.helpers import report_table
from tests.plain_baselines import plain_summary_correlation

pytestmark = pytest.mark.numeric  # compared with golden numbers: CI runs them under the AVX2 kernels too

SPLIT_LINE = re.compile(r"\[Split: (\d)\] Fscore: ([\d.]+)(?:  Spearman's \u03c1: (-?[\d.]+)  Kendall's \u03c4: "
                        r"(-?[\d.]+))? \[\u03c3=([\d.]+), epoch: (\d+)\]")
SMALL_LENGTHS = {f"video_{k}": 30 for k in range(1, 51)}


SPLITS_FILE = GOLDEN / "selection_splits.json"


@pytest.fixture(scope="module")
def tvsum_h5(tmp_path_factory):
    """An h5 of 50 videos with TVSum's frame counts (the golden tree's score lengths), 20 users each."""
    return make_dataset(tmp_path_factory.mktemp("tvsum") / "tvsum.h5", TVSUM_FRAMES, input_size=1, n_users=20)


@pytest.fixture(scope="module")
def small_h5(tmp_path_factory):
    """An h5 of 50 videos of 450 frames (30 scores each, the SMALL_LENGTHS trees)."""
    return make_dataset(tmp_path_factory.mktemp("small") / "small.h5", [450] * 50, input_size=1, n_users=5)


def build(recipes, golden, root, dataset, lengths=None, n_epochs=None):
    spec = golden("selection.json")
    splits = json.loads(SPLITS_FILE.read_text())
    recipes.build_experiment_tree(root, dataset, splits, lengths or recipes.tvsum_lengths(),
                                  n_epochs or spec["n_epochs"], spec["seed"])
    return root


def run(capsys, h5, *argv):
    choose_best_model.main(["--splits_file", str(SPLITS_FILE), "--dataset_file", str(h5), *map(str, argv)])
    return capsys.readouterr().out


def authors_lines(text):
    """The authors' printout in `text`, without the rank correlations: the matrix and the per-split lines."""
    return [re.sub(r"  Spearman.*? \[", " [", line) for line in text.splitlines()
            if line.startswith(("[Split", "[[", " [")) and "best test epoch" not in line]


@pytest.fixture(scope="module")
def golden_run(recipes, golden, anno_path, tvsum_h5, tmp_path_factory):
    """The golden TVSum experiment, chosen once with the real annotations: (exp_dir, stdout, report)."""
    exp = build(recipes, golden, tmp_path_factory.mktemp("golden") / "exp", "TVSum")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        choose_best_model.main(["--exp_dir", str(exp), "--dataset", "TVSum", "--anno", str(anno_path),
                                "--splits_file", str(SPLITS_FILE), "--dataset_file", str(tvsum_h5)])
    return exp, out.getvalue(), json.loads((exp / "TVSum_best_models.json").read_text())


def test_golden_selection_without_annotations(recipes, golden, tmp_path):
    """The reference's choices and F1 (matrix, sigma, epoch, F1 per split, their average) need no annotations."""
    exp = build(recipes, golden, tmp_path / "exp", "TVSum")
    spec = golden("selection.json")
    grid = find_runs(exp, "TVSum", 5)
    report, lines = choose(grid)
    assert authors_lines("\n".join(lines)) == authors_lines(spec["stdout"])
    average = re.search(r"Avg values :=> F1: ([\d.]+)", spec["stdout"]).group(1)
    assert report["f_score"] == float(average)


def test_golden_selection_tvsum(golden, golden_run):
    _, out, report = golden_run
    expected = golden("selection.json")["stdout"]
    assert expected in out  # the reference's report, byte for byte (matrix, split lines, rule, averages)
    ours = [m.groups() for m in SPLIT_LINE.finditer(out[:out.index("Another protocol")])]
    theirs = [m.groups() for m in SPLIT_LINE.finditer(expected)]
    assert len(theirs) == 5 and ours == theirs
    for entry, (split, f1, rho, tau, sigma, epoch) in zip(report["splits"], theirs):
        assert entry["split"] == int(split) and entry["sigma"] == float(sigma)
        assert entry["epoch"] + 1 == int(epoch) and entry["f_score"] == float(f1)
        assert f"{entry['rho']:.3f}" == rho and f"{entry['tau']:.3f}" == tau
    avg = re.search(r"Avg values :=> F1: ([\d.]+)  Spearman's \u03c1: (-?[\d.]+)  Kendall's \u03c4: (-?[\d.]+)",
                    expected)
    assert report["f_score"] == float(avg.group(1))
    assert f"{report['rho']:.3f}" == avg.group(2) and f"{report['tau']:.3f}" == avg.group(3)


def test_best_test_epoch_protocol(golden_run):
    exp, out, report = golden_run
    assert out.index("Avg values :=> F1") < out.index("Another protocol, NOT the paper's")
    best = []
    for entry in report["splits"]:
        f = [float(v) for v in (exp / f"reg{entry['sigma']}" / "TVSum" / "results" / f"split{entry['split']}" /
                                "f_scores.txt").read_text().split()]
        assert entry["best_epoch"] == int(np.argmax(f[1:]))
        assert entry["best_epoch_f_score"] == round(max(f[1:]), 2)
        assert f"[Split: {entry['split']}] Fscore: {entry['best_epoch_f_score']:.2f} [\u03c3={entry['sigma']}, " \
               f"best test epoch: {entry['best_epoch']}" in out
        best.append(entry["best_epoch_f_score"])
    assert report["best_epoch_f_score"] == round(float(np.mean(best)), 2)
    assert f"Avg values (best test epoch) :=> F1: {report['best_epoch_f_score']:.2f}" in out


@pytest.mark.slow
def test_summe_report_format(recipes, golden, tvsum_h5, tmp_path, capsys):
    """The same tree under the SumMe name: same choices and F1, F1 average with .2f, no rule, and in the authors'
    part no correlations; SumMe's rho and tau (against the mean user summary) come in the table after it."""
    exp = build(recipes, golden, tmp_path / "exp", "SumMe")
    out = run(capsys, tvsum_h5, "--exp_dir", exp, "--dataset", "SumMe")
    expected = golden("selection.json")["stdout"]
    for line in expected.splitlines():
        if line.startswith("[Split"):
            assert re.sub(r"  Spearman.*? \[", " [", line) + "\n" in out
    authors = out[:out.index("Another protocol")]
    assert "=" * 84 not in out and "Spearman" not in authors
    assert "\nAvg values :=> F1: 45.83\n" in out
    report = json.loads((exp / "SumMe_best_models.json").read_text())
    assert report["f_score"] == 45.83 and report["correlation"]
    assert report["correlation_reference"].endswith("user_summary.mean(0)[picks]")
    for entry in report["splits"]:
        results = exp / f"reg{entry['sigma']}" / "SumMe" / "results" / f"split{entry['split']}"
        rho, tau = plain_summary_correlation(results / f"SumMe_{entry['epoch']}.json", tvsum_h5)
        assert abs(entry["rho"] - rho) < 1e-9 and abs(entry["tau"] - tau) < 1e-9
        row = report_table(out)[str(entry["split"])]
        assert (row["\u03c1"], row["\u03c4"]) == (f"{entry['rho']:.3f}", f"{entry['tau']:.3f}")
    assert report["rho"] == round(np.mean([entry["rho"] for entry in report["splits"]]), 2)
    assert report["tau"] == round(np.mean([entry["tau"] for entry in report["splits"]]), 2)


def test_short_runs_use_all_epochs(recipes, golden, small_h5, tmp_path, capsys):
    exp = build(recipes, golden, tmp_path / "exp", "SumMe", SMALL_LENGTHS, n_epochs=6)
    out = run(capsys, small_h5, "--exp_dir", exp, "--dataset", "SumMe")
    assert out.startswith("note: 25 of the 25 runs have 20 epochs or fewer")
    report = json.loads((exp / "SumMe_best_models.json").read_text())
    for entry in report["splits"]:
        with open(exp / f"reg{entry['sigma']}" / "SumMe" / "logs" / f"split{entry['split']}" / "scalars.csv") as f:
            losses = [float(row["loss_epoch"]) for row in csv.DictReader(f)]
        assert entry["epoch"] == int(np.argmin(losses))


def test_improvement_and_epoch_rules():
    assert select_epoch([5.0] * 20 + [3.0, 1.0, 1.0] + [2.0] * 400) == 21  # first minimum
    assert select_epoch([0.1] + [1.0] * 30) == 20  # epochs before 20 do not count
    assert select_epoch([3.0] * 400 + [0.0]) == 20  # nor those after 399
    assert select_epoch([0.3, 0.1, 0.2]) == 1
    assert improvement(0.5, 0.55, 0.6) == pytest.approx(0.5)
    assert improvement(0.5, 0.9, 0.6) == 0.0  # 4 > 1.5: overshot
    assert improvement(0.6, 0.6, 0.6) != improvement(0.6, 0.6, 0.6)  # 0 / 0 stays NaN, as in the reference


@pytest.fixture
def tree(recipes, golden, tmp_path):
    """A small TVSum experiment (30 scores per video: it does not match the real annotations)."""
    return build(recipes, golden, tmp_path / "exp", "TVSum", SMALL_LENGTHS)


def choose_error(exp, anno_path=None, dataset="TVSum"):
    with pytest.raises(UserError) as error:
        choose(find_runs(exp, dataset, 5), *load_annotations(anno_path) if anno_path else (None, None))
    return str(error.value)


def test_a_partial_grid_is_chosen_on_the_runs_it_has(tree, small_h5, capsys):
    full = json.loads(json.dumps(choose(find_runs(tree, "TVSum", 5))[0]))
    shutil.rmtree(tree / "reg0.7")
    shutil.rmtree(tree / "reg0.5" / "TVSum" / "results" / "split3")
    for sigma in (0.5, 0.6, 0.8, 0.9):
        shutil.rmtree(tree / f"reg{sigma}" / "TVSum" / "logs" / "split4")
    report_experiment(tree, "TVSum", ReportInputs(small_h5, SPLITS_FILE, "avg"))  # no annotations: not needed
    out = capsys.readouterr().out
    assert "note: 5 of the 20 runs of the grid are missing (\u03c3=0.5 split 3, \u03c3=0.5 split 4, " in out
    assert "splits 4 have no run and are left out" in out
    report = json.loads((tree / "TVSum_best_models.json").read_text())
    assert report["sigmas"] == [0.5, 0.6, 0.8, 0.9] and [s["split"] for s in report["splits"]] == [0, 1, 2, 3]
    assert {"sigma": 0.5, "split": 3} in report["missing_runs"]
    for entry, before in zip(report["splits"], full["splits"]):
        if before["sigma"] not in (0.7,) and entry["split"] != 3:
            assert entry["sigma"] == before["sigma"] and entry["epoch"] == before["epoch"]
    assert report["splits"][3]["sigma"] != 0.5


def test_no_runs_at_all(tmp_path):
    (tmp_path / "exp").mkdir()
    assert choose_error(tmp_path / "exp") == (
        f"{tmp_path / 'exp'}: no TVSum runs (an experiment holds reg{{sigma}}/TVSum/logs/split{{k}} and "
        f"results/split{{k}} for splits 0..4 of the splits file; bash run_tvsum_splits.sh trains them)")
    assert choose_error(tmp_path / "none") == f"{tmp_path / 'none'}: experiment folder not found"


def test_broken_inputs(tree):
    csv_path = tree / "reg0.6" / "TVSum" / "logs" / "split1" / "scalars.csv"
    csv_path.unlink()
    assert choose_error(tree).startswith(f"{csv_path}: loss file not found")
    csv_path.write_text("wall_time,step,loss_epoch\n1.0,0,0.5\n2.0,2,0.4\n")
    assert choose_error(tree) == f"{csv_path}: line 3: step 2, expected 1 (one row per epoch 0, 1, ...)"
    csv_path.write_text("wall_time,step,loss_epoch\n1.0,0,abc\n")
    assert choose_error(tree) == f"{csv_path}: line 2: expected numbers in the step and loss_epoch columns"
    csv_path.write_text("wall_time,step\n1.0,0\n")
    assert choose_error(tree) == f"{csv_path}: no loss_epoch column"


def test_truncated_score_file(tree):
    path = tree / "reg0.5" / "TVSum" / "results" / "split0" / "TVSum_-1.json"
    path.write_text(path.read_text()[:1000])
    assert choose_error(tree).startswith(f"{path}: not valid JSON, truncated or corrupt?")


def test_short_f_scores_file(tree):
    for path in tree.glob("reg*/TVSum/results/split0/f_scores.txt"):
        path.write_text("50.0\n51.0\n")
    assert re.search(r"f_scores.txt: 2 values, but epoch \d+ needs \d+", choose_error(tree))


def test_annotations_that_do_not_match(tree, tmp_path):
    anno = tmp_path / "anno.tsv"
    anno.write_text("".join(f"id{k}\tX\t{','.join(['3'] * 40)}\n" for k in range(60)))
    message = choose_error(tree, anno)
    assert message.startswith(f"{anno}: video_") and "the annotation file does not match the dataset" in message
    anno.write_text("id1\tX\t1,2,3\n")
    assert re.fullmatch(rf"{re.escape(str(anno))}: no annotations for video_\d+ \(listed in .*\.json\)",
                        choose_error(tree, anno))


def test_default_annotation_file(monkeypatch, tmp_path):
    from common import paths
    from evaluation import annotations
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path / "data")
    expected = tmp_path / "data" / "TVSum" / "ydata-anno.tsv"
    with pytest.raises(UserError, match=f"{expected}: TVSum annotations not found \\(nor ydata-anno.rar beside it\\)"):
        annotations.load_annotations(None)
    expected.parent.mkdir(parents=True)
    expected.with_suffix(".rar").write_bytes(b"")
    assert paths.default_annotation_file() == expected.with_suffix(".rar")
    expected.write_text("id\tX\t1,2\n")
    loaded, path = annotations.load_annotations(None)
    assert path == expected and loaded["video_1"].tolist() == [[1.0, 2.0]]
