"""inference/video/annotations.py: the intervals of an annotations CSV become one 0/1 summary per annotator."""
from pathlib import Path

import numpy as np

from inference.video.annotations import Annotations

SECONDS = np.arange(25) * 0.5  # 24 frames at 2 per second, then the video's end at 12 s


def summaries(tmp_path: Path, rows: str, video: str = "clip.mp4") -> np.ndarray:
    (tmp_path / "ann.csv").write_text("video,annotator,start_seconds,end_seconds\n" + rows)
    return Annotations(tmp_path / "ann.csv").user_summary(Path("videos") / video, SECONDS, 24)


def test_rows_by_file_name_and_by_stem_both_count(tmp_path):
    """docs/video.md allows either name on any row: an annotator named only by the stem is not dropped."""
    users = summaries(tmp_path, "clip.mp4,anna,0,1\nclip,ben,2,3\nclip.mp4,carl,4,5\nclip,anna,10,11\n")
    assert users.shape == (3, 24)
    assert np.flatnonzero(users[0]).tolist() == [0, 1, 20, 21]  # anna's rows of both names, merged
    assert np.flatnonzero(users[1]).tolist() == [4, 5]
    assert np.flatnonzero(users[2]).tolist() == [8, 9]


def test_an_interval_far_past_the_end_is_a_warning(tmp_path, capsys):
    """Frames written for seconds (300 on a 12-second video) are warned about; a rounded-up end is not."""
    users = summaries(tmp_path, "clip,anna,1,300\nclip,ben,11,13\n")
    assert np.flatnonzero(users[0]).tolist() == list(range(2, 24))
    assert capsys.readouterr().err == (f"warning: {tmp_path / 'ann.csv'}: line 2: ends at 300 s, after the end of "
                                       f"clip.mp4 (12.000 s): times are in seconds, not frames\n")
