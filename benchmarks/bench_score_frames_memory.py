"""Peak memory of CA-SUM scoring long videos: the chunked `score_frames` next to `forward` (eval mode, no grad).

Each measurement runs in its own process (a fresh peak RSS, from getrusage) on random features [T, 1024] with the
default block size 60: T = 2,700, 10,800 and 21,600 sampled frames are 22.5 minutes, 1.5 hours and 3 hours of
video at two frames per second. `forward` materialises several [T, T] matrices; its cost per T^2 is measured on the
smaller sizes and a size whose estimate exceeds --max_gb is reported as "did not fit" instead of being run.

Usage: python benchmarks/bench_score_frames_memory.py [--lengths 2700 10800 21600] [--max_gb 16] [--chunk 256]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import resource
import subprocess
import time

MB = 1024 * 1024


def peak_rss():
    """This process's peak resident set size in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(method, T, chunk):
    """Score random features of T frames with `method`; print the peak RSS before and after, and the time."""
    import torch

    from model.layers.summarizer import CA_SUM

    torch.manual_seed(0)
    model = CA_SUM(1024, 1024, 60).eval()
    x = torch.rand(T, 1024)
    with torch.no_grad():
        model.score_frames(x[:120], chunk=chunk)
        model(x[:120])
    base = peak_rss()
    start = time.perf_counter()
    with torch.no_grad():
        scores = model.score_frames(x, chunk=chunk) if method == "score_frames" else model(x)[0].view(-1)
    seconds = time.perf_counter() - start
    print(json.dumps({"base": base, "peak": peak_rss(), "seconds": seconds, "checksum": float(scores.sum())}))


def measure(method, T, chunk):
    done = subprocess.run([sys.executable, __file__, "--child", method, str(T), "--chunk", str(chunk)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", type=int, nargs="+", default=[2700, 10800, 21600])
    p.add_argument("--max_gb", type=float, default=16.0, help="do not run forward when its estimate exceeds this")
    p.add_argument("--chunk", type=int, default=256, help="score_frames chunk (rows of the attention at a time)")
    p.add_argument("--child", nargs=2, metavar=("METHOD", "T"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]), args.chunk)

    print(f"{'T':>6} {'method':>12} {'peak RSS':>10} {'over base':>10} {'time':>8}")
    per_cell = None
    for T in sorted(args.lengths):
        for method in ("score_frames", "forward"):
            if method == "forward" and per_cell is not None and per_cell * T * T > args.max_gb * 1024 * MB:
                print(f"{T:>6} {method:>12}   did not fit (estimated {per_cell * T * T / 1024 / MB:.1f} GB "
                      f"> --max_gb {args.max_gb:g})")
                continue
            result = measure(method, T, args.chunk)
            if "error" in result:
                print(f"{T:>6} {method:>12}   failed: {result['error']}")
                continue
            extra = result["peak"] - result["base"]
            if method == "forward":
                per_cell = max(per_cell or 0.0, extra / (T * T))
            print(f"{T:>6} {method:>12} {result['peak'] / MB:>8.0f} MB {extra / MB:>7.0f} MB "
                  f"{result['seconds']:>7.1f}s", flush=True)


if __name__ == "__main__":
    main()
