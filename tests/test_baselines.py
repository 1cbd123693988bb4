"""The baselines (docs/evaluation.md): the PoR random summarizer's F1 against numbers the PoR authors' own code
computed (tests/golden/por.json) and against the plain definitions (tests/plain_baselines.py), the humans'
leave-one-out F1 and rank correlation, random_baseline.py, and the cache beside the report."""
import json
import os

import numpy as np
import pytest
from scipy.stats import kendalltau

from evaluation import random_baseline
from evaluation.baseline_cache import BaselineCache, compute_baselines
from evaluation.baselines import human_correlation, human_f_score, kendall_tau_b, random_f_score
from evaluation.eval_data import EvalDataset
from evaluation.evaluation_metrics import summary_corr_coeff
from tests import plain_baselines as plain
from tests.golden_inputs import GOLDEN
from tests.helpers import assert_user_error, run_main, write_h5

pytestmark = pytest.mark.numeric  # compared with golden numbers: CI runs them under the AVX2 kernels too

POR = json.loads((GOLDEN / "por.json").read_text())


def por_cases():
    return [pytest.param(case, id=case["case"]) for case in POR["cases"]]


@pytest.mark.parametrize("case", por_cases())
def test_random_f1_is_that_of_the_por_authors_code(case):
    """Every split of every case as compute_RP computed it, to 1e-9; where their code gives NaN (an empty summary
    or an empty user: 0 / 0) ours follows the project's rule (such an F-score is 0), as the plain definition does."""
    h5 = GOLDEN / case["h5"]
    with EvalDataset(h5) as data:
        for keys, theirs in zip(case["test_keys"], case["random_f1"]):
            ours = random_f_score([data.video(key, "por.json") for key in keys], case["eval_method"], case["seeds"])
            expected = theirs if theirs is not None else plain.random_f_score(h5, keys, case["eval_method"])
            assert abs(ours - expected) <= 1e-9, (keys, ours, expected)


@pytest.mark.parametrize("case", por_cases())
def test_human_f1_per_video(case):
    h5 = GOLDEN / case["h5"]
    with EvalDataset(h5) as data:
        for key, theirs in case["human_loo_per_video"].items():
            ours = human_f_score(data.video(key, "por.json"), case["eval_method"])
            if theirs is None:  # an empty annotator: NaN in their F-score, 0 in ours
                theirs = plain.split_human_f_score(h5, [key], case["eval_method"])
            assert abs(ours - theirs) <= 1e-9, key


def baseline_video(rng, n_frames, n_users, geometry=""):
    """The evaluation fields of one video: shots of 5..60 frames, users picking about 15% of the frames as runs of
    frames. `geometry`: "past" (the last shot and the users run 3 frames past n_frames), "short" (the shots stop 20
    frames before the end), "narrow" (user summaries 10 frames shorter than n_frames), "huge" (one shot longer than
    the 15% budget)."""
    cover = n_frames + 3 if geometry == "past" else n_frames - 20 if geometry == "short" else n_frames
    width = n_frames + 3 if geometry == "past" else n_frames - 10 if geometry == "narrow" else n_frames
    bounds, start = [], 0
    while start < cover:
        length = int(rng.integers(5, 61)) if geometry != "huge" or start else int(0.3 * cover)
        end = min(start + length, cover) - 1
        bounds.append((start, cover - 1 if cover - 1 - end < 5 else end))
        start = bounds[-1][1] + 1
    users = np.zeros((n_users, width), dtype=np.float32)
    for user in users:
        while user.sum() < 0.15 * width:
            first = int(rng.integers(0, width - 10))
            user[first:first + int(rng.integers(5, 40))] = 1
    picks = np.arange(0, n_frames, 15)
    return {"change_points": np.array(bounds), "n_frames": n_frames, "picks": picks, "n_steps": len(picks),
            "user_summary": users}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated dataset (6 videos of 150..600 frames, 4..7 users, odd geometries) and 3 splits, the last one the
    first one's test videos reversed."""
    rng = np.random.default_rng(14)
    geometries = ["", "past", "short", "narrow", "huge", ""]
    videos = {f"video_{k}": baseline_video(rng, int(rng.integers(150, 600)), int(rng.integers(4, 8)), geometry)
              for k, geometry in enumerate(geometries, start=1)}
    root = tmp_path_factory.mktemp("generated")
    h5 = write_h5(root / "data.h5", videos)
    tests = [["video_2", "video_5", "video_1"], ["video_6", "video_3", "video_4"], ["video_1", "video_5", "video_2"]]
    splits = root / "splits.json"
    splits.write_text(json.dumps([{"train_keys": [k for k in videos if k not in test], "test_keys": test}
                                  for test in tests]))
    return h5, splits, tests


@pytest.mark.parametrize("eval_method", ["max", "avg"])
def test_random_and_human_f1_match_the_plain_definitions(generated, eval_method):
    h5, splits, tests = generated
    values = compute_baselines(h5, json.loads(splits.read_text()), splits, eval_method)
    for test, entry in zip(tests, values):
        assert abs(entry["random_f_score"] - plain.random_f_score(h5, test, eval_method)) <= 1e-9
        assert abs(entry["human_f_score"] - plain.split_human_f_score(h5, test, eval_method)) <= 1e-9
        assert entry["human_rho"] is None and entry["human_tau"] is None
    # the same videos in the reverse order draw other random scores: the order of test_keys is part of the protocol
    assert values[0]["random_f_score"] != values[2]["random_f_score"]
    assert values[0]["human_f_score"] == values[2]["human_f_score"]


def test_a_few_seeds(generated):
    h5, _, tests = generated
    with EvalDataset(h5) as data:
        ours = random_f_score([data.video(key, "s") for key in tests[1]], "avg", seeds=3)
    assert abs(ours - plain.random_f_score(h5, tests[1], "avg", seeds=3)) <= 1e-9


def annotation(rng, n_users, n_frames):
    """TVSum-like scores: one value 1..5 per 60-frame segment, following a shared interest plus noise."""
    segments = -(-n_frames // 60)
    interest = rng.random(segments)
    scores = np.clip(np.rint(1 + 4 * (interest + 0.4 * rng.standard_normal((n_users, segments)))), 1, 5)
    return np.repeat(scores, 60, axis=1)[:, :n_frames]


def test_human_correlation_matches_scipy():
    rng = np.random.default_rng(3)
    for n_users, n_frames in ((2, 400), (6, 1234), (20, 3000)):
        users = annotation(rng, n_users, n_frames)
        ours, theirs = human_correlation(users), plain.human_correlation(users)
        assert abs(ours[0] - theirs[0]) <= 1e-12 and abs(ours[1] - theirs[1]) <= 1e-12
        assert 0 < ours[1] < ours[0] < 1
    users = annotation(rng, 3, 600)
    users[1] = 3.0  # an annotator who gave every segment the same score has no rank correlation
    assert all(np.isnan(human_correlation(users)))
    assert all(np.isnan(human_correlation(users[:1])))


def test_kendall_tau_b_matches_scipy():
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(2, 80))
        x = rng.integers(0, int(rng.integers(1, 9)), n) if rng.random() < 0.7 else rng.random(n)
        y = rng.integers(0, int(rng.integers(1, 9)), n)
        (xs, xc), (ys, yc) = np.unique(x, return_inverse=True), np.unique(y, return_inverse=True)
        theirs = kendalltau(x, y)[0]
        ours = kendall_tau_b(xc, yc, len(xs), len(ys))
        assert (np.isnan(ours) and np.isnan(theirs)) or abs(ours - theirs) <= 1e-12


def test_summary_correlation():
    """SumMe's rho and tau: against the share of users who selected each sampled frame, ties as average ranks."""
    rng = np.random.default_rng(8)
    users = (rng.random((15, 900)) < 0.2).astype(np.float32)
    picks = np.arange(0, 900, 15)
    for scores in (rng.random(60), np.round(rng.random(60) * 3) / 3):
        ours = summary_corr_coeff(scores, users, picks)
        theirs = plain.correlation(scores, users.mean(0)[picks])
        assert abs(ours[0] - theirs[0]) <= 1e-12 and abs(ours[1] - theirs[1]) <= 1e-12
    assert all(np.isnan(summary_corr_coeff(np.full(60, 0.5), users, picks)))
    with pytest.raises(ValueError, match="pick 900 is beyond the 900 frames"):
        summary_corr_coeff(rng.random(2), users, [0, 900])


def test_random_baseline_script(generated, tmp_path):
    h5, splits, tests = generated
    out = tmp_path / "out" / "random.json"
    done = run_main(random_baseline.main, "--dataset_file", h5, "--splits_file", splits, "--eval", "max", "--seeds",
                    5, "--json", out, "--workers", 2)
    assert done.returncode == 0, done.stderr
    values = [plain.random_f_score(h5, test, "max", seeds=5) for test in tests]
    written = json.loads(out.read_text())
    assert [entry["split"] for entry in written["splits"]] == [0, 1, 2]
    for entry, value in zip(written["splits"], values):
        assert abs(entry["random_f_score"] - value) <= 1e-9
        assert f"[Split: {entry['split']}] random F1: {entry['random_f_score']!r}\n" in done.stdout
    assert written["random_f_score"] == np.mean([entry["random_f_score"] for entry in written["splits"]])
    assert done.stdout.endswith(f"over 3 splits (5 seeds each): {written['random_f_score']!r}\nwrote {out}\n")

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps([{"train_keys": ["video_1"], "test_keys": ["video_2", "video_9"]}]))
    failed = run_main(random_baseline.main, "--dataset_file", h5, "--splits_file", wrong, "--eval", "avg", "--json",
                      tmp_path / "not.json", "--workers", 1)
    assert_user_error(failed, f"{wrong}: video video_9 is not in the dataset {h5}")
    assert not (tmp_path / "not.json").exists()


def test_cache_key(generated, tmp_path):
    """The cache holds the baselines of exactly one dataset file (path, size, mtime), splits content, eval method,
    number of seeds and annotation file."""
    h5, splits, _ = generated
    values = [{"split": k, "random_f_score": 40.0 + k, "human_f_score": 60.0, "human_rho": None, "human_tau": None}
              for k in range(3)]
    cache = BaselineCache(tmp_path, "SumMe", h5, splits, "max")
    assert cache.load(3) is None
    cache.save(values)
    assert cache.path == tmp_path / "SumMe_baselines.json"
    assert BaselineCache(tmp_path, "SumMe", h5, splits, "max").load(3) == values
    assert cache.load(4) is None
    for other in (BaselineCache(tmp_path, "SumMe", h5, splits, "avg"),
                  BaselineCache(tmp_path, "SumMe", h5, splits, "max", seeds=10),
                  BaselineCache(tmp_path, "SumMe", h5, splits, "max", anno_path=splits)):
        assert other.load(3) is None
    edited = tmp_path / "splits.json"
    edited.write_text(splits.read_text().replace("video_1", "video_6", 1))
    assert BaselineCache(tmp_path, "SumMe", h5, edited, "max").load(3) is None
    stat = os.stat(h5)
    os.utime(h5, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    try:
        assert BaselineCache(tmp_path, "SumMe", h5, splits, "max").load(3) is None
    finally:
        os.utime(h5, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    cache.path.write_text('{"key": ')
    assert cache.load(3) is None
    cache.save([{**entry, "human_f_score": "60"} for entry in values])
    assert cache.load(3) is None
