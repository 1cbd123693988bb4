"""Summaries, F-scores and rank correlations against the golden vectors computed by the reference."""

import h5py
import libarchive
import numpy as np
import pytest

from common.errors import UserError
from evaluation.annotations import load_tvsum_annotations
from evaluation.evaluation_metrics import SummaryScorer, evaluate_summary, get_corr_coeff
from evaluation.generate_summary import VideoShots, generate_summary
from tests.golden_inputs import GOLDEN

pytestmark = pytest.mark.numeric  # compared with golden numbers: CI runs them under the AVX2 kernels too


@pytest.fixture(scope="module")
def golden_h5():
    with h5py.File(GOLDEN / "train0_summe.h5", "r") as h5:
        yield {key: {name: h5[key][name][()] for name in ("change_points", "n_frames", "picks", "user_summary")}
               for key in h5}


@pytest.fixture(scope="module")
def annotations(anno_path):
    return load_tvsum_annotations(anno_path)


def test_golden_fscore_cases_one_at_a_time(golden, recipes, golden_h5):
    cases = golden("fscore.json")
    assert len(cases) >= 32
    for case in cases:
        video = golden_h5[case["video"]]
        scores = recipes.scores(len(video["picks"]), case["score_seed"], case["ties"])
        summary = generate_summary([video["change_points"]], [scores], [video["n_frames"]], [video["picks"]])[0]
        shots = VideoShots(video["change_points"], video["n_frames"], video["picks"])
        selected = np.flatnonzero(shots.select(scores[None, :])[0]).tolist()
        assert selected == case["selected_shots"], case
        assert int(summary.sum()) == case["summary_frames"], case
        assert summary.dtype == np.int8 and len(summary) == video["change_points"][-1][1] + 1
        assert evaluate_summary(summary, video["user_summary"], "max") == case["f_max"], case
        assert evaluate_summary(summary, video["user_summary"], "avg") == case["f_avg"], case


def test_golden_fscore_cases_batched(golden, recipes, golden_h5):
    """All the score vectors of a video at once (as an experiment evaluation does) give the same numbers."""
    by_video = {}
    for case in golden("fscore.json"):
        by_video.setdefault(case["video"], []).append(case)
    for key, cases in by_video.items():
        video = golden_h5[key]
        shots = VideoShots(video["change_points"], video["n_frames"], video["picks"])
        scores = np.stack([recipes.scores(len(video["picks"]), c["score_seed"], c["ties"]) for c in cases])
        selected = shots.select(scores)
        scorer = SummaryScorer(shots, video["user_summary"])
        assert [np.flatnonzero(row).tolist() for row in selected] == [c["selected_shots"] for c in cases]
        assert shots.summaries(selected).sum(axis=1).tolist() == [c["summary_frames"] for c in cases]
        assert scorer.f_scores(selected, "max").tolist() == [c["f_max"] for c in cases]
        assert scorer.f_scores(selected, "avg").tolist() == [c["f_avg"] for c in cases]


def test_golden_correlations(golden, recipes, annotations):
    for case in golden("corr.json"):
        users = annotations[case["video"]]
        assert users.shape[0] == 20 and -(-users.shape[1] // 15) == case["n_steps"]
        rho, tau = get_corr_coeff(recipes.scores(case["n_steps"], case["score_seed"]), users)
        assert rho == pytest.approx(case["rho"], abs=1e-9)
        assert tau == pytest.approx(case["tau"], abs=1e-9)


def test_annotations_from_tsv_and_rar_agree(anno_path, annotations, tmp_path):
    with libarchive.file_reader(str(anno_path)) as archive:
        for entry in archive:
            (tmp_path / entry.pathname).write_bytes(b"".join(entry.get_blocks()))
    from_tsv = load_tvsum_annotations(tmp_path / "ydata-anno.tsv")
    assert list(from_tsv) == [f"video_{k}" for k in range(1, 51)] == list(annotations)
    assert all(np.array_equal(from_tsv[k], annotations[k]) for k in annotations)
    assert annotations["video_1"].shape == (20, 10597)
    assert annotations["video_1"].min() >= 1 and annotations["video_1"].max() <= 5


def test_annotation_errors(tmp_path):
    missing = tmp_path / "none.tsv"
    with pytest.raises(UserError, match=f"{missing}: annotation file not found"):
        load_tvsum_annotations(missing)
    bad = tmp_path / "bad.tsv"
    bad.write_text("abc\tVT\t1,2,x\n")
    with pytest.raises(UserError, match=f"{bad}: line 1: the scores are not comma-separated numbers"):
        load_tvsum_annotations(bad)
    bad.write_text("abc\tVT\t1,2,3\nabc\tVT\t1,2\n")
    with pytest.raises(UserError, match=f"{bad}: line 2: 2 scores for abc"):
        load_tvsum_annotations(bad)
    bad.write_text("abc 1,2,3\n")
    with pytest.raises(UserError, match="expected 'id<TAB>category<TAB>scores'"):
        load_tvsum_annotations(bad)
    fake_rar = tmp_path / "ydata-anno.rar"
    fake_rar.write_bytes(b"Rar!\x1a\x07\x01\x00garbage")
    with pytest.raises(UserError, match=f"{fake_rar}: "):
        load_tvsum_annotations(fake_rar)


def test_annotations_group_by_video_in_row_order(tmp_path):
    path = tmp_path / "anno.tsv"
    path.write_text("b\tX\t1,2,3\na\tX\t3,2,1\nb\tX\t2,2,2\n")
    out = load_tvsum_annotations(path)
    assert list(out) == ["video_1", "video_2"]
    assert out["video_1"].tolist() == [[1, 2, 3], [2, 2, 2]] and out["video_2"].tolist() == [[3, 2, 1]]


def test_correlation_length_must_match():
    with pytest.raises(ValueError, match="3 predicted scores, but 16 annotated frames sub-sample to 2"):
        get_corr_coeff([0.1, 0.2, 0.3], np.ones((2, 16)))


def test_fscore_arithmetic():
    users = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], dtype=np.float32)
    summary = np.array([1, 1, 1, 0], dtype=np.int8)  # padded with a 0 to the users' length
    p, r = 2 / 3, 2 / 2
    assert evaluate_summary(summary, users, "max") == 2 * p * r * 100 / (p + r)
    # the second user shares nothing (F = 0); the empty third user gives 0 here (the reference: NaN)
    assert evaluate_summary(summary, users, "avg") == (0 + 2 * p * r * 100 / (p + r) + 0 + 0) / 3
    assert evaluate_summary(np.zeros(5, dtype=np.int8), users, "max") == 0.0
    with pytest.raises(ValueError, match="binary"):
        evaluate_summary(np.array([2, 0]), users, "max")
    with pytest.raises(ValueError, match="eval_method"):
        evaluate_summary(summary, users, "mean")


def test_scorer_matches_frame_level_fscore_with_overlapping_shots():
    """Shots that overlap, leave gaps or run past n_frames: per-segment counts equal the frame-level ones."""
    rng = np.random.default_rng(5)
    bounds = np.array([[0, 9], [5, 14], [20, 29], [30, 44], [40, 52]])
    shots = VideoShots(bounds, 50, np.arange(0, 50, 5))
    users = (rng.random((4, 48)) < 0.3).astype(np.float32)
    selected = rng.random((30, len(bounds))) < 0.5
    summaries = shots.summaries(selected)
    assert summaries.shape == (30, 53)
    for method in ("max", "avg"):
        expected = [evaluate_summary(s, users, method) for s in summaries]
        assert SummaryScorer(shots, users).f_scores(selected, method).tolist() == expected


def test_frame_scores_follow_the_picks():
    """Score i covers frames [picks[i], picks[i+1]); the last range runs to n_frames; a missing last score is 0."""
    shots = VideoShots([[0, 3], [4, 7], [8, 9]], 10, [0, 4, 8])
    assert shots.shot_scores(np.array([[0.25, 0.5, 1.0]])).tolist() == [[0.25, 0.5, 1.0]]
    assert shots.shot_scores(np.array([[0.25, 0.5]])).tolist() == [[0.25, 0.5, 0.0]]
    straddling = VideoShots([[0, 5], [6, 9]], 10, [0, 4, 8])
    assert straddling.shot_scores(np.array([[1.0, 0.0, 0.5]])).tolist() == [[np.float32(4 / 6), 0.25]]
    with pytest.raises(ValueError, match="1 scores for 3 frame ranges"):
        shots.shot_scores(np.array([[0.25]]))
    with pytest.raises(ValueError, match="shot"):
        VideoShots([[5, 3]], 10, [0])


def test_capacity():
    """int(0.15 * (last frame of the last shot + 1)), or another share of the frames when asked."""
    assert VideoShots([[0, 99], [100, 146]], 150, [0]).capacity == int(147 * 0.15) == 22
    assert VideoShots([[0, 99], [100, 146]], 150, [0], ratio=0.3).capacity == 44
