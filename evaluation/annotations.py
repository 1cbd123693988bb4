"""TVSum's frame-level annotations (ydata-anno.tsv, or the ydata-anno.rar it is distributed in), for the rank
correlations: 20 annotators' importance scores (1..5) for every frame of every video."""
import csv
import io
from pathlib import Path

import numpy as np

from common import fileio
from common.errors import UserError
from common.hints import missing_data_hint
from common.paths import default_annotation_file
from evaluation.evaluation_metrics import subsampled_length

ANNOTATION_MEMBER = "ydata-anno.tsv"


def read_annotation_text(path: Path) -> str:
    """The text of ydata-anno.tsv, from the file itself or from the RAR archive it is distributed in."""
    path = Path(path)
    data = fileio.read_bytes(path, "annotation file", missing_data_hint(path))
    if data[:4] == b"Rar!":
        import libarchive  # needs the libarchive C library: only for the archive
        try:
            with libarchive.memory_reader(data) as archive:
                for entry in archive:
                    if entry.isfile and Path(entry.pathname).name == ANNOTATION_MEMBER:
                        data = b"".join(entry.get_blocks())
                        break
                else:
                    raise UserError(f"{path}: the archive holds no {ANNOTATION_MEMBER}")
        except libarchive.ArchiveError as e:
            raise UserError(f"{path}: cannot read RAR archive ({e.msg})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a text annotation file (expected tab-separated UTF-8)") from None


def load_tvsum_annotations(path: Path) -> dict[str, np.ndarray]:
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


def load_annotations(anno: Path | None) -> tuple[dict[str, np.ndarray], Path]:
    """(annotations, path) from `anno`, or from the default location (data/TVSum/) when it is None."""
    path = Path(anno) if anno is not None else default_annotation_file()
    if anno is None and not path.is_file():
        raise UserError(f"{path.with_suffix('.tsv')}: TVSum annotations not found (nor ydata-anno.rar beside it), "
                        f"give their path with --anno{missing_data_hint(path)}")
    return load_tvsum_annotations(path), path


def check_annotations(annotations: dict[str, np.ndarray], anno_path: Path, n_scores: dict[str, int],
                      h5_path: Path) -> None:
    """Each evaluated video's annotations must sub-sample to its number of scores in the h5 ({video: n_scores})."""
    for key, count in n_scores.items():
        if key not in annotations:
            raise UserError(f"{anno_path}: no annotations for {key} of {h5_path}")
        n_frames = annotations[key].shape[1]
        if subsampled_length(n_frames) != count:
            raise UserError(f"{anno_path}: {key} has {n_frames} annotated frames ({subsampled_length(n_frames)} "
                            f"sub-sampled), but {count} scores (n_steps) in {h5_path}: the annotation file does not "
                            f"match the dataset")
