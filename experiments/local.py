"""Running a grid's training runs on this machine: one after the other, or `jobs` at a time."""
import os
import subprocess
import tempfile
import time

from tqdm import tqdm

from common.errors import UserError
from experiments.grid import Run

POLL_SECONDS = 0.1


def cpu_count() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def thread_env(threads: int | None) -> dict[str, str]:
    """The environment of the runs: OMP_NUM_THREADS (which sets PyTorch's and MKL's threads) when `threads` is set,
    and CA_SUM_GRID, which keeps an interrupted run from printing its own way to continue (the grid's is the one
    that holds)."""
    env = dict(os.environ, CA_SUM_GRID="1")
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    return env


def run_sequential(runs: list[Run], env: dict[str, str]) -> None:
    """Train the runs one after the other, each printing to the terminal; stop at the first failure."""
    for run in runs:
        print(f"== {run.label}", flush=True)
        status = subprocess.call(run.command, env=env)
        if status != 0:
            raise UserError(f"training {run.label} failed (exit status {status}); stopping")


def stop(running: list) -> None:
    """Terminate the running runs, wait for them, and forget them."""
    for _, process, log, _ in running:
        process.terminate()
        process.wait()
        log.close()
    running.clear()


def run_parallel(runs: list[Run], jobs: int, env: dict[str, str]) -> None:
    """Train `jobs` runs at a time; print each run's output when it ends. At the first failure no other run starts
    and the running ones are stopped (their resume state lets the next start continue them)."""
    pending, running, failed = list(reversed(runs)), [], None
    with tqdm(total=len(runs), desc="Runs", unit="run", ncols=80, disable=None) as progress:
        try:
            while running or (pending and failed is None):
                while pending and failed is None and len(running) < jobs:
                    run, log = pending.pop(), tempfile.TemporaryFile(mode="w+")
                    process = subprocess.Popen(run.command, stdout=log, stderr=subprocess.STDOUT, env=env)
                    running.append((run, process, log, time.monotonic()))
                time.sleep(POLL_SECONDS)
                for item in [item for item in running if item[1].poll() is not None]:
                    running.remove(item)
                    run, process, log, start = item
                    log.seek(0)
                    output = log.read().rstrip("\n")
                    log.close()
                    status = process.returncode
                    result = "done" if status == 0 else f"failed (exit status {status})"
                    tqdm.write(f"== {run.label}: {result} in {time.monotonic() - start:.1f} s" +
                               (f"\n{output}" if output else ""))
                    progress.update()
                    if status != 0 and failed is None:
                        failed = (run, status)
                if failed is not None:
                    for run, _, _, _ in running:
                        tqdm.write(f"== {run.label}: stopped (the next start continues it)")
                    stop(running)
        finally:
            stop(running)
    if failed is not None:
        raise UserError(f"training {failed[0].label} failed (exit status {failed[1]}); stopping")
