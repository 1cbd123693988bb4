"""KTS alone, on generated shot-structured features (data/make_dataset.py's, 1024-d): this project's exact KTS against
KTS's original code (li-plus/DSNet's src/kts, given with --dsnet) on the same kernels; the windows' gap to the exact
answer (change points and KTS cost) on lengths both run, with the field's float32 kernel and in float64; and a
3-hour video's KTS (21,600 sampled frames) in a fresh process: its time and the peak resident memory it adds to the
features'.

Each timing is one run of the call alone, in this process, after the kernel is made (KTS's code and this project's
are both single-threaded numpy). Figures drift with the machine's load: compare the two columns of one row.

Usage: python benchmarks/bench_kts.py [--dsnet PATH] [--lengths 300 1100 2000 3000] [--gap 3000 4500 6000]
       [--long 21600]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os
import resource
import subprocess
import tempfile
import time

import numpy as np

from data.make_dataset import shot_features
from inference.video.kts import Programme, kts_kernel
from inference.video.kts_windows import kts_in_windows
from inference.video.shots import linear_kernel, unit_rows

SAMPLE_STEP = 15  # frames per sampled frame of the generated videos


def features(n: int, seed: int) -> np.ndarray:
    """n sampled frames of a generated video (shots of 1.5 to 10 s)."""
    return shot_features(n * SAMPLE_STEP, 1024, np.random.default_rng(seed))[2]


def timed(call):
    """(result, wall seconds, CPU seconds of this process) of `call()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def against_original(lengths: list[int], dsnet: Path | None) -> None:
    if dsnet is not None:
        sys.path.insert(0, str(dsnet / "src"))
        from kts.cpd_auto import cpd_auto
    print(f"{'frames':>7} {'this project':>13} {'original':>10} {'ratio':>7}  same change points")
    for n in lengths:
        kernel = linear_kernel(unit_rows(features(n, n)))
        ours, wall, _ = timed(lambda: kts_kernel(kernel))
        if dsnet is None:
            print(f"{n:>7} {wall:>12.2f}s {'-':>10} {'-':>7}  (no --dsnet)", flush=True)
            continue
        (theirs, _), their_wall, _ = timed(lambda: cpd_auto(kernel, n - 1, 1, verbose=False))
        print(f"{n:>7} {wall:>12.2f}s {their_wall:>9.2f}s {their_wall / wall:>6.1f}x  "
              f"{'yes' if [int(c) for c in theirs] == ours else 'NO'} ({len(ours)})", flush=True)


def window_gap(lengths: list[int]) -> None:
    """The windows against the exact answer, on the field's float32 kernel and on the same features in float64 (whose
    scatters are free of the float32 double cumulative sum's rounding)."""
    print(f"{'frames':>7} {'kernel':>8} {'exact':>8} {'windows':>8}  change points (exact, windows, not in both)  "
          f"KTS cost gap")
    for n in lengths:
        for dtype in (np.float32, np.float64):
            rows = unit_rows(features(n, n).astype(dtype))
            programme, exact_wall, _ = timed(lambda: Programme(linear_kernel(rows)))
            _, run_wall, _ = timed(programme.run)
            exact = programme.starts(programme.chosen)
            windows, windows_wall, _ = timed(lambda: kts_in_windows(rows))
            gap = programme.cost(windows) / programme.cost(exact) - 1
            print(f"{n:>7} {dtype.__name__:>8} {exact_wall + run_wall:>7.2f}s {windows_wall:>7.2f}s  {len(exact)}, "
                  f"{len(windows)}, {len(set(exact) ^ set(windows))}  {gap * 100:+.4f}%", flush=True)


LONG_RUN = """
import sys, time
import numpy as np
from inference.video.shots import kts

def status(field):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field + ":"))

x = np.load(sys.argv[1])
open("/proc/self/clear_refs", "w").write("5")  # the peak resident size restarts from the present one
before = status("VmRSS")
wall, cpu = time.perf_counter(), time.process_time()
starts = kts(x)
print(len(starts), time.perf_counter() - wall, time.process_time() - cpu, before, status("VmHWM"))
"""


def long_video(n: int) -> None:
    """kts() of n sampled frames in a fresh process (Linux): its time, and its peak resident size above the one it
    started from (the features loaded)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "features.npy"
        np.save(path, features(n, n))
        out = subprocess.run([sys.executable, "-c", LONG_RUN, str(path)], cwd=Path(__file__).resolve().parent.parent,
                             capture_output=True, text=True, check=True).stdout.split()
    count, wall, cpu, before, peak = int(out[0]), float(out[1]), float(out[2]), int(out[3]), int(out[4])
    print(f"{n} sampled frames ({n / 7200:g} h at 2 a second), features {n * 4096 / 2 ** 20:.0f} MB: kts {wall:.2f} s "
          f"wall, {cpu:.2f} s CPU, {count} change points; resident {before / 1024:.0f} MB with the features, peak "
          f"{peak / 1024:.0f} MB in kts (+{(peak - before) / 1024:.0f} MB)")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dsnet", type=Path, default=None, help="a li-plus/DSNet checkout (its src/kts is run)")
    p.add_argument("--lengths", type=int, nargs="*", default=[300, 1100, 2000, 3000],
                   help="sampled frames, against the original (default: 300 1100 2000 3000)")
    p.add_argument("--gap", type=int, nargs="*", default=[3000, 4500, 6000],
                   help="sampled frames, windows against exact (default: 3000 4500 6000)")
    p.add_argument("--long", type=int, default=21600, help="sampled frames of the long video, 0 for none (21600)")
    args = p.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    against_original(args.lengths, args.dsnet)
    window_gap(args.gap)
    if args.long:
        long_video(args.long)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"this process's peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
