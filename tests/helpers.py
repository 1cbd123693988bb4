"""Small builders shared by the tests: h5 files in the dataset layout, and running the command-line scripts."""
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parent.parent


def run_script(script, *args, cwd=None):
    """Run `python {script} args...` from `cwd` (default: a neutral folder) and return the CompletedProcess."""
    return subprocess.run([sys.executable, str(REPO / script), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or REPO.parent)


def assert_user_error(result, *fragments):
    """A one-line `error:` message containing every fragment, exit status 2, and no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    message = result.stderr.strip().splitlines()[-1]
    for fragment in fragments:
        assert fragment in message, message


def write_h5(path, videos):
    """Write {video_key: {dataset_name: array}} as an h5 file in the dataset layout."""
    with h5py.File(path, "w") as h5:
        for key, fields in videos.items():
            group = h5.create_group(key)
            for name, value in fields.items():
                group[name] = value
    return path


def tiny_video(T=20, D=8, seed=0):
    """The fields of one small valid video with T sampled frames of width D."""
    rng = np.random.default_rng(seed)
    n_frames = 15 * T
    return {"features": rng.random((T, D), dtype=np.float32),
            "picks": np.arange(0, n_frames, 15), "n_frames": n_frames, "n_steps": T,
            "change_points": np.array([[0, n_frames // 2 - 1], [n_frames // 2, n_frames - 1]]),
            "n_frame_per_seg": np.array([n_frames // 2, n_frames - n_frames // 2]),
            "user_summary": (rng.random((3, n_frames)) < 0.2).astype(np.float32),
            "gtscore": rng.random(T).astype(np.float32)}
