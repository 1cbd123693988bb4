"""summary.json: the video, the shots with their scores and whether the summary keeps them, and the frame scores."""


def summary_record(video, checkpoint, ratio, timeline, change_points, shot_scores, selected, frame_scores):
    """The JSON object of summary.json. Frames are 0-based and inclusive; a shot's end_sec is the next one's
    start_sec (the last one's is the video's duration), so the shots tile the video in order."""
    seconds = timeline.seconds
    shots = [{"start_frame": int(first), "end_frame": int(last),
              "start_sec": float(seconds[first]), "end_sec": float(seconds[last + 1]),
              "score": float(score), "selected": bool(keep)}
             for (first, last), score, keep in zip(change_points.tolist(), shot_scores, selected)]
    return {"video": str(video), "fps": float(timeline.fps), "n_frames": int(timeline.n_frames),
            "duration_sec": timeline.duration, "checkpoint": str(checkpoint), "summary_ratio": float(ratio),
            "shots": shots, "frame_scores": [float(s) for s in frame_scores],
            "sampled_frames": [int(p) for p in timeline.picks]}
