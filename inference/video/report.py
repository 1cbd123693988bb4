"""summary.json: the video, the shots with their scores, where they come from and whether the summary keeps them,
and the frame scores."""
import numpy as np

from inference.video.decode import Timeline
from inference.video.segmentation import Shots

# The importance axis of importance.png and summary.html: the scores' range [0, 1] with margins, so that a curve
# at 0 or 1 stays visible.
SCORE_AXIS = (-0.05, 1.05)


def summary_record(settings: dict, timeline: Timeline, shots: Shots, shot_scores: np.ndarray, selected: np.ndarray,
                   frame_scores: np.ndarray, warnings: list[str]) -> dict:
    """The JSON object of summary.json: the command's `settings` (video, checkpoint, backbone, summary_ratio,
    max_shot_seconds), the `warnings` saying why the summary may mean nothing (empty when none), then the video, its
    shots and its scores. Frames are 0-based and inclusive; a shot's end_sec is the next one's start_sec (the last
    one's is the video's duration), so the shots tile the video in order. A shot's `origin` is "kts" when kernel
    temporal segmentation found it as it is, "cut" when it is a part of a longer KTS shot (`kts_shot` numbers the
    KTS shots)."""
    seconds = timeline.seconds
    records = [{"start_frame": int(first), "end_frame": int(last),
                "start_sec": float(seconds[first]), "end_sec": float(seconds[last + 1]),
                "score": float(score), "selected": bool(keep),
                "origin": "cut" if cut else "kts", "kts_shot": int(kts)}
               for (first, last), score, keep, cut, kts in zip(shots.change_points.tolist(), shot_scores, selected,
                                                               shots.cut, shots.kts_shot)]
    return {**settings, "warnings": list(warnings), "fps": float(timeline.fps), "n_frames": int(timeline.n_frames),
            "duration_sec": timeline.duration, "shots": records,
            "frame_scores": [float(s) for s in frame_scores],
            "sampled_frames": [int(p) for p in timeline.picks],
            "sampled_sec": [float(t) for t in timeline.seconds[timeline.picks]]}
