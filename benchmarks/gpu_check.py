"""What the project promises on a GPU, checked in one command (a few minutes): for anyone with CUDA.

    python benchmarks/gpu_check.py [--keep DIR] [--device cpu]

1. resume: a run trained on the GPU, SIGKILLed after epoch 3 and continued with --resume, writes the very files of a
   run never interrupted (deterministic algorithms on: model/device.py);
2. CPU and GPU: the same checkpoint scores the same videos within SCORE_TOLERANCE on the CPU and on the GPU; the
   losses of a run trained on each are printed side by side;
3. torchrun: Mr.HiSum-layout training on 2 processes, one GPU each, where 2 GPUs exist (else 1 process, which still
   goes through the NCCL process group);
4. your own video: inference/summarize_video.py on a generated 720p minute on the GPU, its features against the
   CPU's, with TensorFloat-32 off (the default) and on (--tf32);
5. speed: seconds per epoch of SumMe- and TVSum-sized runs (1024-d features) and of a Mr.HiSum-layout epoch
   (timed on 200 videos, scaled to Mr.HiSum's 27,892 training videos), and the time of the paper's 25-run protocol
   (5 splits x 5 sigmas x 400 epochs) per dataset on this GPU.

Every check prints one line, `ok` or `FAILED` with what differed; the exit status is the number of failures. Without
CUDA it says so in one line (`--device cpu` runs the same checks on the CPU, to try the script itself).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

import h5py
import numpy as np
import torch

from data.make_dataset import make_mrhisum, mrhisum_split, write
from model.checkpoints import load_model
from model.configs import get_config
from model.data_loader import VideoData
from model.device import numerics
from model.solver import Solver
from model.stream_solver import StreamSolver

REPO = Path(__file__).resolve().parent.parent
SCORE_TOLERANCE = 1e-5  # one checkpoint's scores, CPU against GPU (the golden tolerance, docs/reproducibility.md)
FEATURE_TOLERANCE = 1e-4  # the video backbone's features, CPU against GPU in full float32
RUN_EPOCHS, KILLED_AFTER = 8, 3
MRHISUM_TRAIN = 27892  # the training videos of Mr.HiSum's split (docs/mrhisum.md)
PROTOCOL_RUNS, PROTOCOL_EPOCHS = 25, 400


def python(*args: object, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, cwd=REPO, **kwargs)


def report(name: str, ok: bool, detail: str) -> bool:
    print(f"{'ok    ' if ok else 'FAILED'}  {name}: {detail}", flush=True)
    return ok


def run_files(exp: Path) -> dict[str, bytes]:
    """{relative path: bytes} of a run's score files and checkpoints."""
    return {str(p.relative_to(exp)): p.read_bytes() for p in sorted(exp.rglob("*"))
            if p.is_file() and p.suffix in (".json", ".pt")}


def check_resume(data: tuple[Path, Path], work: Path, device: str) -> bool:
    args = ["model/main.py", "--dataset_file", data[0], "--splits_file", data[1], "--n_epochs", RUN_EPOCHS,
            "--resume_every", 1, "--device", device]
    whole = python(*args, "--exp_dir", work / "whole")
    if whole.returncode:
        return report("resume", False, f"the uninterrupted run failed: {whole.stderr.strip()[-300:]}")
    marker = work / "killed" / "reg0.6" / "SumMe" / "results" / "split0" / f"SumMe_{KILLED_AFTER}.json"
    process = subprocess.Popen([sys.executable, *map(str, args), "--exp_dir", str(work / "killed")], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not marker.exists() and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    resumed = python(*args, "--exp_dir", work / "killed", "--resume")
    if resumed.returncode:
        return report("resume", False, f"--resume failed: {resumed.stderr.strip()[-300:]}")
    expected, got = run_files(work / "whole"), run_files(work / "killed")
    differ = sorted(name for name in expected.keys() | got.keys() if expected.get(name) != got.get(name))
    where = next((line.split(": ")[-1] for line in resumed.stdout.splitlines() if "resuming after" in line),
                 "not resumed")
    return report("resume", not differ, f"killed after epoch {KILLED_AFTER}, {where}: "
                  + (f"{len(expected)} files identical" if not differ else f"differ: {', '.join(differ[:4])}"))


def check_cpu_and_gpu(data: tuple[Path, Path], work: Path, device: str) -> bool:
    """The same checkpoint on both devices; the losses of a run trained on each, printed."""
    cpu_run = python("model/main.py", "--dataset_file", data[0], "--splits_file", data[1], "--n_epochs", RUN_EPOCHS,
                     "--device", "cpu", "--exp_dir", work / "cpu")
    if cpu_run.returncode:
        return report("CPU and GPU", False, f"the CPU run failed: {cpu_run.stderr.strip()[-300:]}")
    checkpoint = work / "whole" / "reg0.6" / "SumMe" / "models" / "split0" / f"last_epoch{RUN_EPOCHS - 1}.pt"
    keys = json.loads(data[1].read_text())[0]["test_keys"]
    worst = 0.0
    with h5py.File(data[0]) as h5, torch.no_grad():
        for key in keys:
            x = torch.from_numpy(h5[key]["features"][()])
            scores = [load_model(checkpoint, d).score_frames(x.to(d)).cpu() for d in ("cpu", device)]
            worst = max(worst, float((scores[0] - scores[1]).abs().max()))
    losses = [read_losses(work / run / "reg0.6" / "SumMe" / "logs" / "split0") for run in ("cpu", "whole")]
    print(f"        losses of the run trained on the CPU and on {device}, epoch by epoch: "
          + "  ".join(f"{a:.6f}/{b:.6f}" for a, b in zip(*losses)), flush=True)
    return report("CPU and GPU", worst <= SCORE_TOLERANCE,
                  f"one checkpoint's scores of {len(keys)} videos differ by at most {worst:.2e} "
                  f"(tolerance {SCORE_TOLERANCE:g})")


def read_losses(log_dir: Path) -> list[float]:
    from evaluation.scalars import read_loss_events
    return [loss for _, _, loss in read_loss_events(log_dir)]


def check_torchrun(work: Path, device: str) -> bool:
    n_gpus = torch.cuda.device_count() if device == "cuda" else 2
    nproc = min(2, max(1, n_gpus))
    keys = [f"video_{i}" for i in range(1, 41)]
    h5 = make_mrhisum(work / "mrhisum.h5", len(keys), 1024, seed=3)
    splits = work / "mrhisum_split.json"
    splits.write_text(json.dumps(mrhisum_split(keys, seed=3)))
    done = python("-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "model/main.py",
                  "--video_type", "MrHiSum", "--dataset_file", h5, "--splits_file", splits, "--n_epochs", 2,
                  "--batch_size", 8, "--device", device, "--exp_dir", work / "torchrun")
    metrics = work / "torchrun" / "reg0.6" / "MrHiSum" / "logs" / "split0" / "metrics.csv"
    ok = done.returncode == 0 and metrics.is_file()
    where = f"{n_gpus} GPU{'s' * (n_gpus != 1)}" if device == "cuda" else "the CPU"
    detail = (f"{nproc} process{'es' * (nproc > 1)} on {where}, 2 epochs, "
              f"{len(metrics.read_text().splitlines()) - 1 if metrics.is_file() else 0} validations")
    return report("torchrun", ok, detail if ok else f"{detail}: {done.stderr.strip()[-400:]}")


def check_video(work: Path, device: str) -> bool:
    try:
        from benchmarks.bench_summarize_video import random_weights, write_minute
    except ImportError as e:
        return report("your own video", True, f"skipped: {e.name} is not installed (requirements-video.txt)")
    clip = work / "minute.mp4"
    write_minute(clip)
    backbone, checkpoint = random_weights(work)
    features = {}
    for name, extra in (("cpu", ["--device", "cpu"]), ("full", ["--device", device]),
                        ("tf32", ["--device", device, "--tf32"])):
        out = work / "video" / name
        done = python("inference/summarize_video.py", clip, "--checkpoint", checkpoint, "--backbone_weights",
                      backbone, "-o", out, "--save_h5", *extra)
        if done.returncode:
            return report("your own video", False, f"{name}: {done.stderr.strip()[-300:]}")
        with h5py.File(out / "dataset.h5") as h5:
            group = h5[next(iter(h5))]
            features[name] = (group["features"][()], group["change_points"][()].tolist())
    gaps = {name: float(np.abs(features[name][0] - features["cpu"][0]).max()) for name in ("full", "tf32")}
    same = {name: features[name][1] == features["cpu"][1] for name in ("full", "tf32")}
    print(f"        features against the CPU's: full float32 {gaps['full']:.2e}, TF32 {gaps['tf32']:.2e}; "
          f"shots with TF32 {'the same' if same['tf32'] else 'different'}", flush=True)
    return report("your own video", gaps["full"] <= FEATURE_TOLERANCE and same["full"],
                  f"a 720p minute summarized on {device}: features within {gaps['full']:.2e} of the CPU's "
                  f"(tolerance {FEATURE_TOLERANCE:g}), shots {'the same' if same['full'] else 'DIFFERENT'}")


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def epoch_seconds(solver, device: str, epochs: int = 3) -> float:
    """Median seconds of a training epoch and its evaluation, after one epoch of warm-up."""
    times = []
    for epoch in range(epochs + 1):
        start = time.perf_counter()
        float(solver.train_epoch(epoch))
        solver.evaluate(epoch)
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def check_speed(work: Path, device: str) -> bool:
    rows = []
    for kind, batch in (("summe", 20), ("tvsum", 40)):
        h5, splits = write(work / kind, kind, input_size=1024)
        config = get_config(["--dataset_file", str(h5), "--splits_file", str(splits), "--batch_size", str(batch),
                             "--device", device, "--exp_dir", str(work / f"speed_{kind}")])
        data = [VideoData(h5, config.split[k], 1024) for k in ("train_keys", "test_keys")]
        with numerics(config.device):
            seconds = epoch_seconds(Solver(config, *data), device)
        rows.append((kind, seconds, seconds * PROTOCOL_EPOCHS * PROTOCOL_RUNS))
    videos = 200
    keys = [f"video_{i}" for i in range(1, videos + 1)]
    h5 = make_mrhisum(work / "mrhisum_speed.h5", videos, 1024, seed=4)
    splits = work / "mrhisum_speed.json"
    split = mrhisum_split(keys, seed=4)
    splits.write_text(json.dumps(split))
    config = get_config(["--video_type", "MrHiSum", "--dataset_file", str(h5), "--splits_file", str(splits),
                         "--batch_size", "40", "--device", device, "--workers", "2", "--exp_dir",
                         str(work / "speed_mrhisum")])
    with numerics(config.device):
        solver = StreamSolver(config)
        start = time.perf_counter()
        float(solver.train_epoch(0))
        synchronize(device)
        per_video = (time.perf_counter() - start) / len(split["train_keys"])
    for kind, seconds, protocol in rows:
        print(f"        {kind}-sized (1024-d): {seconds:.2f} s per epoch; the 25-run protocol "
              f"(400 epochs): {protocol / 3600:.1f} h on this {device}", flush=True)
    print(f"        Mr.HiSum layout: {per_video * 1000:.1f} ms per training video, so about "
          f"{per_video * MRHISUM_TRAIN / 60:.0f} min per epoch of its {MRHISUM_TRAIN:,} training videos "
          f"(timed on {len(split['train_keys'])})", flush=True)
    return report("speed", True, "figures above")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python benchmarks/gpu_check.py", description=__doc__.splitlines()[0])
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                   help="cuda (default), or cpu to try the checks themselves on a machine without a GPU")
    p.add_argument("--keep", type=Path, default=None, metavar="DIR", help="keep the generated files in DIR")
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here: gpu_check.py checks what holds on a GPU (--device cpu tries it on the CPU)")
        return 0
    name = torch.cuda.get_device_name() if args.device == "cuda" else "the CPU"
    print(f"checking on {name}, torch {torch.__version__}", flush=True)
    work = Path(args.keep or tempfile.mkdtemp(prefix="gpu_check_"))
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        data = write(work / "data", "summe", input_size=1024, n_splits=1)
        results = [check_resume(data, work, args.device), check_cpu_and_gpu(data, work, args.device),
                   check_torchrun(work, args.device), check_video(work, args.device),
                   check_speed(work, args.device)]
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    failed = results.count(False)
    print(f"{len(results) - failed} of {len(results)} checks passed in {time.perf_counter() - start:.0f} s")
    return failed


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
