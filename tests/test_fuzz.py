"""Fuzzed bad inputs: every entry point, on many mutations of each of its input files, either works and writes a
correct output, or exits with status 2 and one line naming the file and the problem. Never a traceback, a hang, a
warning on the terminal, a NaN or Inf in an output file, a leftover temporary, or a changed output after a failure.

The entry points run in this process (`main(argv)` inside `run_cli`, as the scripts do), which keeps each case in
the milliseconds; a few cases run as real commands at the end. The mutations are in tests/fuzz_mutations.py.
"""
import contextlib
import io
import json
import re
import shutil
import signal
import subprocess
import traceback
import warnings
from pathlib import Path

import h5py
import pytest

from common.errors import UserError, run_cli
from data import make_dataset
from evaluation import choose_best_model, compute_fscores, evaluate_experiment, export_tensorboard_log
from evaluation.scalars import read_loss_events
from inference import inference
from model import main as train_main
from tests import fuzz_mutations as fm
from tests import tiny_experiment as tiny
from tests.helpers import run_script, write_events
from tests.tiny_experiment import KEYS, N_EPOCHS, N_FRAMES, D, T

TARGET = "video_5"  # the video the h5 mutations touch: a test video of split 0, trained on in the other splits
TIMEOUT = 30  # seconds for one in-process case: a hang fails the case instead of the whole suite
pytestmark = pytest.mark.usefixtures("one_thread")

MUST_FAIL = ("loss NaN", "loss NaN everywhere", "loss inf", "loss -inf", "loss 1e400", "a NaN", "an inf", "a -inf",
             "1e400")  # unusable values: a success is a silent wrong result


class Hang(BaseException):
    """Raised in the main thread when a case runs past its deadline."""


@contextlib.contextmanager
def deadline(seconds):
    def expire(*_):
        raise Hang(f"no result after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def invoke(main, argv):
    """Run main(argv) as the script does: (exit status, stderr, warnings, traceback of an escaping exception)."""
    err = io.StringIO()
    status, crash = 0, None
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        try:
            with deadline(TIMEOUT):
                run_cli(lambda: main([str(a) for a in argv]))
        except SystemExit as e:
            status = e.code
        except (Exception, Hang):
            crash = traceback.format_exc(limit=-3).strip().splitlines()[-1]
    return status, err.getvalue(), [f"{w.category.__name__}: {w.message}" for w in caught], crash


def files(root):
    """{relative path: bytes} of every file under root."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


def strict_json(data):
    def refuse(token):
        raise ValueError(f"{token} in JSON")
    return json.loads(data, parse_constant=refuse)


def non_finite(name, data):
    """Why the output file `name` holds a NaN or an infinity, or None."""
    if name.endswith(".json"):
        try:
            strict_json(data)
        except ValueError as e:
            return str(e)
    elif name.endswith((".txt", ".csv")) and re.search(rb"(?i)\b(nan|inf|infinity)\b", data):
        return "NaN or Inf in text"
    elif "tfevents" in name:
        try:
            read_loss_events(Path(name).parent)
        except UserError as e:
            return str(e) if "NaN" in str(e) else None
    return None


class Campaign:
    """Runs the cases of one entry point and input kind, and collects what went wrong in any of them."""

    def __init__(self, entry):
        self.entry = entry
        self.tried = 0
        self.failures = []

    def case(self, mutation, main, argv, root, names, valid=None, same_as=None):
        """Run one case over the output tree `root`.

        names: strings of which one must appear in an error message (the file, or its folder); valid(root): the
        problems of a successful run's outputs; same_as: {relative path: bytes} a success must reproduce exactly.
        """
        self.tried += 1
        before = files(root)
        status, err, caught, crash = invoke(main, argv)
        after = files(root)
        problems = [f"exception escaped: {crash}"] if crash else []
        problems += [f"warning shown: {w}" for w in caught]
        if "Traceback" in err:
            problems.append("traceback on stderr")
        if not crash and status == 0:
            problems += valid(root) if valid else []
            if any(mutation.endswith(f" {m}") for m in MUST_FAIL):
                problems.append("accepted an unusable value")
            for name, content in (same_as or {}).items():
                if after.get(name) != content:
                    problems.append(f"{name} differs from the valid input's")
        elif not crash:
            lines = [line for line in err.strip().splitlines() if not line.startswith("warning: ")]
            message = lines[-1] if lines else ""
            if status != 2:
                problems.append(f"exit status {status}")
            if "error: " not in message:
                problems.append(f"no error message (stderr {err!r})")
            elif message.startswith("error: ") and len(lines) != 1:
                problems.append(f"message of {len(lines)} lines: {err!r}")
            elif not any(str(n) in message for n in names):
                problems.append(f"message names none of {[Path(n).name for n in names]}: {message!r}")
            changed = sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))
            if changed:
                problems.append(f"failed but changed {changed[:3]}")
        problems += [f"leftover {n}" for n in after if Path(n).name.startswith(".") and n.endswith(".tmp")]
        for name, content in after.items():
            if before.get(name) != content and (why := non_finite(str(Path(root) / name), content)):
                problems.append(f"{name}: {why}")
        if problems:
            self.failures.append(f"{self.entry} | {mutation} | {'; '.join(problems)}")

    def verify(self, at_least):
        assert self.tried >= at_least
        assert not self.failures, f"{len(self.failures)} of {self.tried} cases failed:\n" + "\n".join(self.failures)


# ---------------------------------------------------------------- valid inputs ------------------------------------

@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Valid inputs of every entry point, and the outputs they give (the tiny experiment, evaluated)."""
    inputs = tiny.build(tmp_path_factory.mktemp("base"))
    status, err, _, crash = invoke(evaluate_experiment.main, [inputs["exp"], "TVSum", "avg", "--dataset_file",
                                                              inputs["h5"], "--splits_file", inputs["splits"],
                                                              "--anno", inputs["anno"], "--workers", 1])
    assert status == 0 and not crash, (err, crash)
    exp = inputs["exp"]
    run = exp / "reg0.6" / "TVSum"
    return {**inputs, "run": (run / "logs" / "split0", run / "results" / "split0")}


def copy(src, dst):
    (shutil.copytree if Path(src).is_dir() else shutil.copy)(src, dst)
    return Path(dst)


class Workspace:
    """A copy of `source` at `root`, put back to its original files after each case: much faster than a fresh copy
    of a whole experiment per case."""

    def __init__(self, source, root):
        self.root = copy(source, root)
        self.original = files(self.root)

    def restore(self):
        for path in sorted(self.root.rglob("*"), reverse=True):
            relative = str(path.relative_to(self.root))
            if path.is_dir() and not any(n.startswith(relative + "/") for n in self.original):
                shutil.rmtree(path)
            elif path.is_file() and relative not in self.original:
                path.unlink()
        for relative, content in self.original.items():
            path = self.root / relative
            if path.is_dir():
                shutil.rmtree(path)
            if not path.is_file() or path.read_bytes() != content:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)

    def cases(self, mutations):
        """For each mutation (applied to the workspace folder): its name; the workspace is restored afterwards."""
        for mutation, apply in mutations:
            apply(self.root)
            yield mutation
            self.restore()


def cases(tmp_path, mutations, source, name=None):
    """For each mutation: a fresh folder holding a mutated copy of `source` -> (mutation name, folder, copy)."""
    for i, (mutation, apply) in enumerate(mutations):
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        target = copy(source, folder / (name or Path(source).name))
        apply(target)
        yield mutation, folder, target
        shutil.rmtree(folder, ignore_errors=True)


def mutate_in(relative, mutations):
    """The mutations of the file `relative`, as mutations of the folder holding it."""
    def at(apply):
        return lambda folder: apply(folder / relative)
    return [(f"{relative} {name}", at(apply)) for name, apply in mutations]


# ---------------------------------------------------------------- output checks -----------------------------------

def problems_of_scores(path, lengths, low=0.0, high=1.0):
    """Problems of a score JSON: {video: [score in low..high] * lengths[video]}."""
    try:
        data = strict_json(Path(path).read_bytes())
    except (OSError, ValueError) as e:
        return [f"{path}: {e}"]
    return [f"{path}: {key} has bad scores" for key, v in data.items()
            if len(v) != lengths.get(key, -1) or not all(low <= x <= high for x in v)]


def problems_of_f_scores(path, n_lines):
    try:
        values = [float(v) for v in Path(path).read_text().splitlines()]
    except (OSError, ValueError) as e:
        return [f"{path}: {e}"]
    if len(values) != n_lines or not all(0 <= v <= 100 for v in values):
        return [f"{path}: {len(values)} values, expected {n_lines} in 0..100"]
    return []


def problems_of_report(path):
    try:
        report = strict_json(Path(path).read_bytes())
    except (OSError, ValueError) as e:
        return [f"{path}: {e}"]
    bad = [] if 0 <= report["f_score"] <= 100 else ["f_score"]
    bad += [n for n in ("random_f_score", "human_f_score") if report.get(n) is not None and not 0 <= report[n] <= 100]
    bad += [n for n in ("rho", "tau", "human_rho", "human_tau")
            if report.get(n) is not None and not -1 <= report[n] <= 1]
    bad += [] if report.get("por") is None or report["por"] >= 0 else ["por"]
    return [f"{path}: bad {', '.join(bad)}"] if bad else []


# ---------------------------------------------------------------- training ----------------------------------------

def train_argv(h5, splits, exp, *more):
    return ["--dataset_file", h5, "--splits_file", splits, "--exp_dir", exp, "--input_size", D, "--batch_size", 2,
            "--n_epochs", 1, "--device", "cpu", "--video_type", "TVSum", *more]


def train_outputs_valid(exp, h5):
    """A finished run: the score files of every epoch, one score in 0..1 per feature row, and the last checkpoint."""
    def check(_):
        run = exp / "reg0.6" / "TVSum"
        epochs = [int(p.stem.split("_")[1]) for p in (run / "results" / "split0").glob("TVSum_*.json")]
        out = [] if sorted(epochs) == list(range(-1, max(epochs) + 1)) else [f"score files of epochs {epochs}"]
        with h5py.File(h5, "r") as data:
            lengths = {k: data[k]["features"].shape[0] for k in json.loads((run / "results" / "split0" /
                                                                             "TVSum_-1.json").read_text())}
        out += [p for e in epochs for p in problems_of_scores(run / "results" / "split0" / f"TVSum_{e}.json",
                                                              lengths)]
        return out + ([] if (run / "models" / "split0" / f"last_epoch{max(epochs)}.pt").is_file()
                      else ["no last checkpoint"])
    return check


@pytest.fixture(scope="module")
def trained(base, tmp_path_factory):
    """The score files of a training run on the valid inputs."""
    exp = tmp_path_factory.mktemp("trained") / "exp"
    status, err, _, crash = invoke(train_main.main, train_argv(base["h5"], base["splits"], exp))
    assert status == 0 and not crash, (err, crash)
    results = exp / "reg0.6" / "TVSum" / "results" / "split0"
    return {f"exp/reg0.6/TVSum/results/split0/{p.name}": p.read_bytes() for p in results.iterdir()}


def reads_features(mutation):
    """The h5 mutations training can notice: of the features, of the video's group, of the whole file."""
    return "/" not in mutation.split()[0] or "/features " in mutation or mutation.startswith(("h5 ", "extra"))


def test_training_on_mutated_h5(base, trained, tmp_path):
    campaign = Campaign("model/main.py")
    mutations = [m for m in fm.h5_mutations(base["h5"], TARGET, N_FRAMES, T) if reads_features(m[0])]
    mutations += [m for m in fm.h5_mutations(base["h5"], TARGET, N_FRAMES, T) if "gtscore" in m[0]][:3]
    for mutation, folder, h5 in cases(tmp_path, mutations, base["h5"]):
        harmless = "gtscore" in mutation or mutation == "extra datasets and groups"
        campaign.case(mutation, train_main.main, train_argv(h5, base["splits"], folder / "exp"), folder, [h5],
                      valid=train_outputs_valid(folder / "exp", h5),
                      same_as=trained if harmless else None)
    campaign.verify(at_least=60)


def test_diverging_training_stops_at_the_first_nan(base, tmp_path):
    """Features so large that the training loss overflows: one line, and only the finished epochs' files stay."""
    h5 = copy(base["h5"], tmp_path / "data.h5")
    with h5py.File(h5, "r+") as data:
        data["video_1"]["features"][...] = 1e20  # a training video of split 0: the untrained model scores fine
    status, err, caught, crash = invoke(train_main.main, train_argv(h5, base["splits"], tmp_path / "exp"))
    warning, error = err.splitlines()  # the first: those features are the same at every frame (common/degenerate.py)
    assert warning.startswith(f"warning: {h5}: the features of 1 of these ")
    assert (status, error, caught, crash) == (2, f"error: {h5}: the training loss became NaN or infinite at epoch 0; "
                                                 f"are the features of a sane magnitude?", [], None)
    written = files(tmp_path / "exp")
    assert [n for n in written if "tfevents" not in n] == ["reg0.6/TVSum/results/split0/TVSum_-1.json"]
    assert not non_finite("TVSum_-1.json", written["reg0.6/TVSum/results/split0/TVSum_-1.json"])


def test_training_on_mutated_splits(base, tmp_path):
    campaign = Campaign("model/main.py")
    for mutation, folder, splits in cases(tmp_path, fm.splits_mutations(base["splits"], KEYS), base["splits"]):
        campaign.case(mutation, train_main.main, train_argv(base["h5"], splits, folder / "exp"), folder,
                      [splits, base["h5"]], valid=train_outputs_valid(folder / "exp", base["h5"]))
    campaign.verify(at_least=50)


def test_training_resume_from_mutated_state(base, tmp_path):
    """--resume with a damaged models/split0/resume.pt: refused with a message, never a traceback."""
    from model.configs import get_config
    from model.data_loader import VideoData
    from model.solver import Solver
    exp = tmp_path / "exp"
    argv = [str(a) for a in train_argv(base["h5"], base["splits"], exp, "--n_epochs", 2)]
    status, *_ = invoke(train_main.main, argv)
    assert status == 0
    config = get_config(argv)  # an interrupted run: resume.pt after epoch 0, no last checkpoint
    solver = Solver(config, *(VideoData(config.dataset_file, config.split[k], D) for k in ("train_keys", "test_keys")))
    solver.train_epoch(0)  # the optimizer has moments to mutate
    resume_state = solver.trainer.resume_state
    resume_state.save_task(0, None, None)()
    (config.save_dir / "last_epoch1.pt").unlink()
    source = tmp_path / "resume.pt"
    shutil.move(resume_state.path, source)
    campaign = Campaign("model/main.py --resume")
    for mutation, folder, resume in cases(tmp_path, fm.resume_mutations(source), source):
        models = copy(exp, folder / "exp") / "reg0.6" / "TVSum" / "models" / "split0"
        if resume.exists():
            shutil.move(resume, models / "resume.pt")
        campaign.case(mutation, train_main.main, [*argv[:argv.index("--exp_dir") + 1], folder / "exp",
                                                  *argv[argv.index("--exp_dir") + 2:], "--resume"],
                      folder, ["resume.pt"], valid=train_outputs_valid(folder / "exp", base["h5"]))
    campaign.verify(at_least=40)


# ---------------------------------------------------------------- evaluation --------------------------------------

def fscores_argv(results, h5):
    return ["--path", results, "--dataset", "TVSum", "--eval", "avg", "--dataset_file", h5]


def test_compute_fscores_on_mutated_h5(base, tmp_path):
    campaign = Campaign("evaluation/compute_fscores.py")
    _, results = base["run"]
    expected = {"results/f_scores.txt": (results / "f_scores.txt").read_bytes()}
    for mutation, folder, h5 in cases(tmp_path, fm.h5_mutations(base["h5"], TARGET, N_FRAMES, T), base["h5"]):
        copy(results, folder / "results")
        harmless = "gtscore" in mutation or "n_frame_per_seg" in mutation or mutation == "extra datasets and groups"
        campaign.case(mutation, compute_fscores.main, fscores_argv(folder / "results", h5), folder,
                      [h5, folder / "results"], same_as=expected if harmless else None,
                      valid=lambda root: problems_of_f_scores(root / "results" / "f_scores.txt", N_EPOCHS + 1))
    campaign.verify(at_least=250)


def score_files(results):
    return [p for p in Path(results).glob("TVSum_*.json") if re.fullmatch(r"TVSum_(-1|0|[1-9]\d*)\.json", p.name)]


def test_compute_fscores_on_mutated_score_files(base, tmp_path):
    campaign = Campaign("evaluation/compute_fscores.py")
    _, results = base["run"]
    mutations = [m for e in (-1, 1) for m in mutate_in(f"TVSum_{e}.json",
                                                       fm.score_mutations(results / f"TVSum_{e}.json", T, seed=e))]
    mutations += [("stray TVSum_x.json", lambda f: (f / "TVSum_x.json").write_text("{")),
                  ("TVSum_-0.json beside TVSum_0.json", lambda f: (f / "TVSum_-0.json").write_text("{")),
                  ("TVSum_1.json renamed TVSum_001.json", lambda f: (f / "TVSum_1.json").rename(f / "TVSum_001.json")),
                  ("TVSum_-5.json", lambda f: copy(f / "TVSum_0.json", f / "TVSum_-5.json")),
                  ("epoch 0 missing", lambda f: (f / "TVSum_0.json").unlink()),
                  ("epoch -1 missing", lambda f: (f / "TVSum_-1.json").unlink()),
                  ("epoch 10**30", lambda f: copy(f / "TVSum_0.json", f / f"TVSum_{10 ** 30}.json")),
                  ("a stale temporary", lambda f: (f / ".f_scores.txt.abc.tmp").write_text("1")),
                  ("f_scores.txt is a folder", lambda f: ((f / "f_scores.txt").unlink(), (f / "f_scores.txt").mkdir()))]
    for mutation, folder, copied in cases(tmp_path, mutations, results, "results"):
        campaign.case(mutation, compute_fscores.main, fscores_argv(copied, base["h5"]), folder,
                      [copied, base["h5"]], valid=lambda root: problems_of_f_scores(
                          root / "results" / "f_scores.txt", len(score_files(root / "results"))))
    campaign.verify(at_least=90)


def test_export_on_mutated_events(base, tmp_path):
    campaign = Campaign("evaluation/export_tensorboard_log.py")
    logs, _ = base["run"]
    event = next(logs.glob("events.out.tfevents.*"))
    mutations = mutate_in(event.name, fm.events_mutations(event))
    nan_logs = tmp_path / "nan"
    write_events(nan_logs, [0.3, float("nan"), float("inf")])
    nan_event = next(nan_logs.glob("events.out.tfevents.*"))
    mutations += [("NaN and Inf losses logged", lambda f: shutil.copy(nan_event, f / event.name)),
                  ("a second, empty event file", lambda f: (f / (event.name + ".2")).write_bytes(b"")),
                  ("scalars.csv is a folder", lambda f: ((f / "scalars.csv").unlink(), (f / "scalars.csv").mkdir()))]
    for mutation, folder, copied in cases(tmp_path, mutations, logs, "logs"):
        campaign.case(mutation, export_tensorboard_log.main, [copied], folder, [copied],
                      valid=lambda root: [] if (root / "logs" / "scalars.csv").is_file() else ["no scalars.csv"])
    campaign.verify(at_least=20)


def choose_argv(exp, anno, splits, h5):
    return ["--exp_dir", exp, "--dataset", "TVSum", "--anno", anno, "--splits_file", splits, "--dataset_file", h5]


@pytest.mark.slow
def test_choose_best_model_on_mutated_inputs(base, tmp_path):
    campaign = Campaign("evaluation/choose_best_model.py")
    logs, results = base["run"]
    run = Path("reg0.6") / "TVSum"
    chosen = json.loads((base["exp"] / "TVSum_best_models.json").read_text())["splits"][0]["sigma"]
    f_scores = Path(f"reg{chosen}") / "TVSum" / "results" / "split0" / "f_scores.txt"
    mutations = mutate_in(run / "logs" / "split0" / "scalars.csv", fm.scalars_mutations(logs / "scalars.csv"))
    mutations += mutate_in(f_scores, fm.f_scores_mutations(base["exp"] / f_scores))
    mutations += mutate_in(run / "results" / "split0" / "TVSum_-1.json",
                           fm.score_mutations(results / "TVSum_-1.json", T))
    workspace = Workspace(base["exp"], tmp_path / "exp")
    exp = workspace.root
    for mutation in workspace.cases(mutations):
        campaign.case(mutation, choose_best_model.main, choose_argv(exp, base["anno"], base["splits"], base["h5"]),
                      tmp_path, [exp / run, exp / f_scores.parent],
                      valid=lambda root: problems_of_report(root / "exp" / "TVSum_best_models.json"))
    for mutation, folder, anno in cases(tmp_path, fm.annotation_mutations(base["anno"]), base["anno"]):
        campaign.case(mutation, choose_best_model.main, choose_argv(exp, anno, base["splits"], base["h5"]), tmp_path,
                      [anno], valid=lambda root: problems_of_report(root / "exp" / "TVSum_best_models.json"))
        workspace.restore()
    campaign.verify(at_least=150)


@pytest.mark.slow
def test_evaluate_experiment_on_mutated_inputs(base, tmp_path, monkeypatch):
    """The whole chain on a sample of every kind of mutation (each case evaluates 25 runs). The picture is left out
    (a second per case): it is drawn last, from the files the chain has checked and written; tests/test_idempotent.py
    and tests/test_split_counts.py draw it."""
    monkeypatch.setattr(evaluate_experiment, "plot_curves", lambda grid, report, curves, path: path)
    campaign = Campaign("evaluation/evaluate_experiment.py")
    logs, results = base["run"]
    run = Path("exp") / "reg0.6" / "TVSum"
    event = next(logs.glob("events.out.tfevents.*"))
    mutations = mutate_in(run / "logs" / "split0" / event.name, fm.events_mutations(event))[::2]
    mutations += mutate_in(run / "results" / "split0" / "TVSum_0.json",
                           fm.score_mutations(results / "TVSum_0.json", T))[::3]
    mutations += mutate_in("data.h5", fm.h5_mutations(base["h5"], TARGET, N_FRAMES, T))[::9]
    mutations += mutate_in("anno.tsv", fm.annotation_mutations(base["anno"]))[::3]
    workspace = Workspace(base["root"], tmp_path / "inputs")
    paths = [workspace.root / name for name in ("exp", "data.h5", "anno.tsv")]
    for mutation in workspace.cases(mutations):
        campaign.case(mutation, evaluate_experiment.main,
                      [paths[0], "TVSum", "avg", "--dataset_file", paths[1], "--splits_file", base["splits"], "--anno",
                       paths[2], "--workers", 1],
                      workspace.root, paths,
                      valid=lambda root: problems_of_report(root / "exp" / "TVSum_best_models.json"))
    campaign.verify(at_least=60)


# ---------------------------------------------------------------- inference ---------------------------------------

def inference_argv(models, h5, splits, anno, report):
    return ["--dataset", "TVSum", "--corr_coef", "true", "--model_dir", models, "--dataset_file", h5,
            "--splits_file", splits, "--anno", anno, "--device", "cpu", "--report", report]


def test_inference_on_mutated_checkpoints(base, tmp_path):
    campaign = Campaign("inference/inference.py")
    checkpoint = Path("TVSum") / "split1" / "CA-SUM_split1.pkl"
    mutations = mutate_in(checkpoint, fm.checkpoint_mutations(base["models"] / checkpoint))
    mutations += [("a second checkpoint", lambda f: copy(f / checkpoint, f / checkpoint.with_name("other.pt"))),
                  ("split folder empty", lambda f: (f / checkpoint).unlink()),
                  ("split folder missing", lambda f: shutil.rmtree(f / checkpoint.parent))]
    for mutation, folder, models in cases(tmp_path, mutations, base["models"], "models"):
        campaign.case(mutation, inference.main, inference_argv(models, base["h5"], base["splits"], base["anno"],
                                                               folder / "report.json"),
                      folder, [models / checkpoint.parent], valid=lambda root: problems_of_report(root / "report.json"))
    campaign.verify(at_least=45)


@pytest.mark.slow
def test_inference_on_mutated_data_files(base, tmp_path):
    campaign = Campaign("inference/inference.py")
    kinds = [("data.h5", fm.h5_mutations(base["h5"], TARGET, N_FRAMES, T)),
             ("splits.json", fm.splits_mutations(base["splits"], KEYS)),
             ("anno.tsv", fm.annotation_mutations(base["anno"]))]
    for name, mutations in kinds:
        for mutation, folder, mutated in cases(tmp_path, mutations, base["root"] / name):
            paths = {n: folder / n if n == name else base["root"] / n for n in ("data.h5", "splits.json", "anno.tsv")}
            campaign.case(f"{name}: {mutation}", inference.main,
                          inference_argv(base["models"], paths["data.h5"], paths["splits.json"],
                                         paths["anno.tsv"], folder / "report.json"),
                          folder, [*paths.values(), base["models"]],
                          valid=lambda root: problems_of_report(root / "report.json"))
    campaign.verify(at_least=350)


@pytest.mark.slow
def test_random_json_documents(base, tmp_path):
    """Hypothesis-generated JSON documents as a score file (compute_fscores) and as a splits file (inference)."""
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    anything = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
                            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                         max_size=4), max_leaves=16)
    names = st.sampled_from(KEYS + ["", "video_99", "/", "video_1/features"])
    numbers = st.floats(width=32) | st.floats() | st.integers(-2, 2) | st.booleans()
    score_files = st.dictionaries(names, st.lists(numbers, min_size=T - 1, max_size=T + 1) | anything, max_size=3)
    split = st.fixed_dictionaries({"train_keys": st.lists(names, max_size=5) | anything,
                                   "test_keys": st.lists(names, max_size=3) | anything})
    settings = hypothesis.settings(max_examples=120, derandomize=True, deadline=None, database=None,
                                   suppress_health_check=list(hypothesis.HealthCheck))
    campaign = Campaign("hypothesis")
    _, results = base["run"]
    workspace = Workspace(results, tmp_path / "results")

    @settings
    @hypothesis.given(document=anything | score_files)
    def score_file(document):
        (workspace.root / "TVSum_1.json").write_text(json.dumps(document))
        campaign.case(f"compute_fscores on TVSum_1.json = {json.dumps(document)[:200]}", compute_fscores.main,
                      fscores_argv(workspace.root, base["h5"]), tmp_path, [workspace.root / "TVSum_1.json"],
                      valid=lambda root: problems_of_f_scores(root / "results" / "f_scores.txt", N_EPOCHS + 1))
        workspace.restore()

    @settings
    @hypothesis.given(document=anything | st.lists(split, min_size=1, max_size=5))
    def splits_file(document):
        splits = tmp_path / "splits.json"
        splits.write_text(json.dumps(document))
        campaign.case(f"inference on splits.json = {json.dumps(document)[:200]}", inference.main,
                      inference_argv(base["models"], base["h5"], splits, base["anno"], tmp_path / "report.json"),
                      tmp_path, [splits, base["h5"], base["anno"], base["models"]],
                      valid=lambda root: problems_of_report(root / "report.json"))
        (tmp_path / "report.json").unlink(missing_ok=True)

    score_file()
    splits_file()
    campaign.verify(at_least=200)


def test_arguments(base, tmp_path):
    """Bad values of the arguments that are not files: refused by argparse or with one line."""
    campaign = Campaign("arguments")
    (tmp_path / "a_file").write_text("x")
    for block_size in ("0", "-3", "x", "1e9"):
        campaign.case(f"inference --block_size {block_size}", inference.main,
                      inference_argv(base["models"], base["h5"], base["splits"], base["anno"],
                                     tmp_path / "report.json") + ["--block_size", block_size], tmp_path,
                      ["block_size"], valid=lambda root: problems_of_report(root / "report.json"))
    for report in ("a_file/report.json", "."):
        campaign.case(f"inference --report {report}", inference.main,
                      inference_argv(base["models"], base["h5"], base["splits"], base["anno"],
                                     tmp_path / report), tmp_path, [tmp_path / report])
    campaign.case("export into a file", export_tensorboard_log.main, [base["run"][0], tmp_path / "a_file"], tmp_path,
                  [tmp_path / "a_file"])
    for args in (["--videos", "1"], ["--videos", "-3"], ["--input_size", "0"], ["--seed", "-1"],
                 ["--out", tmp_path / "a_file"]):
        campaign.case(f"make_dataset {' '.join(map(str, args))}", make_dataset.main,
                      ["--out", tmp_path / "made", "--videos", 2, "--input_size", 4, *args], tmp_path,
                      ["videos", "input_size", "seed", "a_file"])
    campaign.verify(at_least=10)


# ---------------------------------------------------------------- real commands -----------------------------------

@pytest.mark.slow
def test_real_commands_print_one_line(base, tmp_path):
    """A few of the cases above through the real scripts: status 2, one line, no traceback."""
    deep = tmp_path / "deep.json"
    deep.write_text(fm.DEEP)
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes((base["models"] / "TVSum" / "split0" / "CA-SUM_split0.pkl").read_bytes()[:700])
    models = tmp_path / "models"
    copy(base["models"], models)
    shutil.copy(truncated, models / "TVSum" / "split0" / "CA-SUM_split0.pkl")
    results = copy(base["run"][1], tmp_path / "results")
    (results / "TVSum_1.json").write_text('{"video_5": [1e300' + ", 0.5" * (T - 1) + "]}")
    commands = [("model/main.py", train_argv(base["h5"], deep, tmp_path / "exp"), deep),
                ("inference/inference.py", inference_argv(models, base["h5"], base["splits"], base["anno"],
                                                          tmp_path / "r.json"), models / "TVSum" / "split0"),
                ("evaluation/compute_fscores.py", fscores_argv(results, base["h5"]), results / "TVSum_1.json")]
    for script, argv, name in commands:
        done = run_script(script, *argv)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        message = done.stderr.strip().splitlines()[-1]
        assert "error: " in message and str(name) in message, done.stderr
    bad_h5 = tmp_path / "bad.h5"
    bad_h5.write_bytes(base["h5"].read_bytes()[:5000])
    exp = copy(base["exp"], tmp_path / "exp2")
    done = subprocess.run(["bash", str(Path(__file__).resolve().parent.parent / "evaluation" / "choose_best_model.sh"),
                           str(exp), "TVSum", "avg", "--dataset_file", str(bad_h5), "--splits_file",
                           str(base["splits"]), "--anno", str(base["anno"])],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr and str(bad_h5) in done.stderr, done.stderr
