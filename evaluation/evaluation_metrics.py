"""F-score of summaries against user summaries, and rank correlation with TVSum annotations (SPEC section 4).

`evaluate_summary`, `load_tvsum_annotations` and `get_corr_coeff` keep the reference's names and numbers;
`SummaryScorer` gives the same F-scores for many summaries of one video at once.

One deliberate difference: the reference returns NaN for a user whose summary is empty, or for an empty predicted
summary (0 / 0 in the precision or the recall); here that user's F-score is 0, so no NaN is ever written.
"""
import csv
import io
import warnings
from pathlib import Path

import libarchive
import numpy as np

from model.errors import UserError

EVAL_METHODS = ("max", "avg")
ANNOTATION_MEMBER = "ydata-anno.tsv"
ANNOTATION_STEP = 15  # annotations are sub-sampled like the features: frames 0, 15, 30, ...


def f_measure(overlap, n_selected, n_user, eval_method):
    """Reduced F-score (0..100) per summary from counts: overlap [B, n_users], n_selected [B], n_user [n_users].

    Per user: P = overlap / n_selected, R = overlap / n_user, F = 2 * P * R * 100 / (P + R) in the reference's
    operation order, 0 when P + R == 0 (or when a count is 0, where the reference gives NaN). 'max' keeps the best
    user, 'avg' the mean over users, summed in user order as Python's sum does.
    """
    if eval_method not in EVAL_METHODS:
        raise ValueError(f"eval_method must be 'max' or 'avg', got {eval_method!r}")
    overlap = np.asarray(overlap, dtype=np.float64)
    n_selected = np.asarray(n_selected, dtype=np.float64)[:, None]
    n_user = np.asarray(n_user, dtype=np.float64)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = overlap / n_selected
        recall = overlap / n_user
        f = 2 * precision * recall * 100 / (precision + recall)
    f[(precision + recall == 0) | (n_selected == 0) | (n_user == 0)] = 0.0
    if eval_method == "max":
        return f.max(axis=1)
    total = np.zeros(len(f))
    for user in range(f.shape[1]):
        total = total + f[:, user]
    return total / f.shape[1]


def int_user_summaries(user_summary):
    """User summaries as the reference compares them: ints (truncated), [n_users, n_frames]."""
    users = np.asarray(user_summary)
    if users.ndim != 2 or users.shape[0] == 0:
        raise ValueError(f"user summaries must be [n_users, n_frames], got shape {users.shape}")
    return users.astype(np.int64)


def evaluate_summary(predicted_summary, user_summary, eval_method):
    """F-score of one binary summary against the user summaries [n_users, n_frames]: 'max' (SumMe) or 'avg' (TVSum).

    Both are padded with zeros to the longer length; S & G is counted as S * (G & 1), the same for a binary S.
    """
    summary = np.asarray(predicted_summary).astype(np.int64)
    if summary.ndim != 1 or ((summary != 0) & (summary != 1)).any():
        raise ValueError("the predicted summary must be a binary vector")
    users = int_user_summaries(user_summary)
    common = min(len(summary), users.shape[1])
    overlap = (users[:, :common] & 1) @ summary[:common]
    return float(f_measure(overlap[None, :], [summary.sum()], users.sum(axis=1), eval_method)[0])


class SummaryScorer:
    """F-scores of many summaries of one video, counted per segment of its shots rather than per frame.

    A summary is the union of its selected shots, so it is constant on each segment between consecutive shot
    boundaries: the frame counts the F-score needs are sums over segments, exact integers either way.
    """

    def __init__(self, shots, user_summary):
        """`shots` a VideoShots; `user_summary` [n_users, n_frames]."""
        users = int_user_summaries(user_summary)
        self.shots = shots
        edges = shots.segment_edges
        self.segment_lengths = np.diff(edges)
        cumulative = np.zeros((len(users), users.shape[1] + 1), dtype=np.int64)
        np.cumsum(users & 1, axis=1, out=cumulative[:, 1:])
        self.user_counts = np.diff(cumulative[:, np.minimum(edges, users.shape[1])], axis=1).T  # [n_segments, n_users]
        self.n_user = users.sum(axis=1)

    def f_scores(self, selected, eval_method):
        """Reduced F-score of the summary of each selected-shot mask in `selected` [B, n_shots].

        Integer arithmetic only (no BLAS: its threads would only compete with the other runs' processes).
        """
        selected = np.asarray(selected, dtype=np.int64).T
        # per segment, the number of selected shots holding it: +1 where a shot starts, -1 after it ends, cumsum
        change = np.zeros((len(self.segment_lengths) + 1, selected.shape[1]), dtype=np.int64)
        np.add.at(change, self.shots.segment_start, selected)
        np.subtract.at(change, self.shots.segment_stop, selected)
        in_summary = (np.cumsum(change[:-1], axis=0) > 0).T.astype(np.int64)
        return f_measure(in_summary @ self.user_counts, in_summary @ self.segment_lengths, self.n_user, eval_method)


def read_annotation_text(path):
    """The text of ydata-anno.tsv, from the file itself or from the RAR archive it is distributed in."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: annotation file not found")
    try:
        with open(path, "rb") as f:
            is_rar = f.read(4) == b"Rar!"
        if not is_rar:
            return path.read_text(encoding="utf-8")
        with libarchive.file_reader(str(path)) as archive:
            for entry in archive:
                if entry.isfile and Path(entry.pathname).name == ANNOTATION_MEMBER:
                    return b"".join(entry.get_blocks()).decode("utf-8")
    except OSError as e:
        raise UserError(f"{path}: cannot read annotation file ({e.strerror})") from None
    except libarchive.ArchiveError as e:
        raise UserError(f"{path}: cannot read RAR archive ({e.msg})") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a text annotation file (expected tab-separated UTF-8)") from None
    raise UserError(f"{path}: the archive holds no {ANNOTATION_MEMBER}")


def load_tvsum_annotations(path):
    """{"video_1": float array [n_users, n_frames], ...} from ydata-anno.tsv or from ydata-anno.rar.

    Each row is: YouTube id, category, comma-separated per-frame scores; video_k is the k-th distinct id in row
    order. The raw scores are returned (get_corr_coeff normalises and sub-samples them).
    """
    rows = {}
    text = read_annotation_text(path)
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))  # a row holds every frame of a video
    try:
        parsed = list(csv.reader(io.StringIO(text), delimiter="\t"))
    except csv.Error as e:
        raise UserError(f"{path}: not tab-separated values ({e})") from None
    for line_no, row in enumerate(parsed, start=1):
        if not row:
            continue
        if len(row) < 3:
            raise UserError(f"{path}: line {line_no}: expected 'id<TAB>category<TAB>scores'")
        try:
            scores = np.array([float(v) for v in row[2].split(",")])
        except ValueError:
            raise UserError(f"{path}: line {line_no}: the scores are not comma-separated numbers") from None
        if not np.isfinite(scores).all():
            raise UserError(f"{path}: line {line_no}: the scores must be finite numbers")
        previous = rows.setdefault(row[0], [])
        if previous and len(previous[0]) != len(scores):
            raise UserError(f"{path}: line {line_no}: {len(scores)} scores for {row[0]}, whose first annotation "
                            f"has {len(previous[0])}")
        previous.append(scores)
    if not rows:
        raise UserError(f"{path}: no annotations")
    return {f"video_{k}": np.stack(users) for k, users in enumerate(rows.values(), start=1)}


def subsampled_length(n_frames):
    """Number of annotation values left after sub-sampling n_frames frames (frames 0, 15, 30, ...)."""
    return -(-n_frames // ANNOTATION_STEP)


def get_corr_coeff(pred_imp_scores, user_scores):
    """(Spearman's rho, Kendall's tau) of predicted scores against each annotator, averaged over annotators.

    `user_scores` [n_users, n_frames] are raw annotations: each row is divided by its max, then sub-sampled with
    step 15, which must leave as many values as there are predicted scores. Kendall's tau is computed between the
    (average) ranks of the two.
    """
    from scipy.stats import kendalltau, rankdata, spearmanr  # 0.5 s to import: only the correlation needs it

    pred = np.asarray(pred_imp_scores)
    user_scores = np.asarray(user_scores)
    if pred.ndim != 1 or user_scores.ndim != 2:
        raise ValueError("expected a 1-D score vector and a [n_users, n_frames] annotation array")
    if subsampled_length(user_scores.shape[1]) != len(pred):
        raise ValueError(f"{len(pred)} predicted scores, but {user_scores.shape[1]} annotated frames sub-sample to "
                         f"{subsampled_length(user_scores.shape[1])}")
    pred_ranks = rankdata(pred)
    rhos, taus = [], []
    # Constant scores or annotations have no rank correlation: NaN, as in the reference, without its warnings.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        for user in user_scores:
            true = (user / user.max(initial=-1))[::ANNOTATION_STEP]
            rhos.append(spearmanr(pred, true)[0])
            taus.append(kendalltau(pred_ranks, rankdata(true))[0])
    return float(np.mean(rhos)), float(np.mean(taus))
