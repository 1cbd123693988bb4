"""A tiny, valid set of every input the entry points read, for the fuzz and idempotence tests.

Five videos of 20 sampled frames (8-d features, 300 frames, 10 shots, 3 users), five splits (split k tests one
video), TVSum-style annotations, one checkpoint per split in the released layout, and a finished TVSum-named
experiment (5 sigmas x 5 splits x epochs -1..2, TensorBoard events and score files) ready to be evaluated.
"""
import json

import numpy as np
import torch

from model.layers.summarizer import CA_SUM
from tests.helpers import tiny_video, write_events, write_h5, write_score_files

KEYS = [f"video_{i}" for i in range(1, 6)]
T, D, N_FRAMES, N_EPOCHS = 20, 8, 300, 3
SIGMAS = ["0.5", "0.6", "0.7", "0.8", "0.9"]


def video(seed):
    """A small valid video: T picks every 15 frames, 10 shots of 30 frames, 3 users picking whole shots."""
    fields = tiny_video(T=T, D=D, seed=seed)
    rng = np.random.default_rng(seed)
    starts = np.arange(0, N_FRAMES, 30)
    fields["change_points"] = np.stack([starts, starts + 29], axis=1)
    fields["n_frame_per_seg"] = np.full(len(starts), 30)
    users = np.zeros((3, N_FRAMES), dtype=np.float32)
    for user in users:
        for shot in rng.choice(len(starts), 2, replace=False):
            user[starts[shot]:starts[shot] + 30] = 1
    fields["user_summary"] = users
    return fields


def write_scores(results, test_key, sigma, rng, shift=0.0):
    """Score files TVSum_{-1..N_EPOCHS-1}.json of one run, drifting from 0.5 towards sigma (plus `shift`)."""
    write_score_files(results, "TVSum", {
        epoch: {test_key: np.clip(0.5 + shift + 0.1 * (epoch + 1) * (float(sigma) - 0.5) + 0.2 * rng.random(T), 0, 1)
                .astype(np.float32).tolist()} for epoch in range(-1, N_EPOCHS)})


def build(root):
    """Write every input under `root`; return their paths: root, h5, splits, anno, models, exp."""
    h5 = write_h5(root / "data.h5", {k: video(i) for i, k in enumerate(KEYS)})
    splits = root / "splits.json"
    splits.write_text(json.dumps([{"train_keys": [k for k in KEYS if k != test], "test_keys": [test]}
                                  for test in reversed(KEYS)]))
    rng = np.random.default_rng(0)
    anno = root / "anno.tsv"
    anno.write_text("".join(f"yt{k}\tcat\t{','.join(str(v) for v in rng.integers(1, 6, N_FRAMES))}\n"
                            for k in range(1, 6) for _ in range(3)))
    generator = torch.Generator().manual_seed(0)
    for k in range(len(KEYS)):
        folder = root / "models" / "TVSum" / f"split{k}"
        folder.mkdir(parents=True)
        model = CA_SUM(D, D, 60)
        with torch.no_grad():
            for param in model.parameters():
                param.copy_(0.5 * torch.randn(param.shape, generator=generator))
        torch.save(model.state_dict(), folder / f"CA-SUM_split{k}.pkl")
    exp = root / "exp"
    for sigma in SIGMAS:
        for k, test in enumerate(reversed(KEYS)):
            run = exp / f"reg{sigma}" / "TVSum"
            write_events(run / "logs" / f"split{k}", 0.3 - 0.05 * np.arange(N_EPOCHS) + 0.01 * rng.random(N_EPOCHS))
            write_scores(run / "results" / f"split{k}", test, sigma, rng)
    return {"root": root, "h5": h5, "splits": splits, "anno": anno, "models": root / "models", "exp": exp}

