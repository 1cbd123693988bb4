#!/usr/bin/env bash
# Train CA-SUM on every TVSum split of the splits file (the paper's 5 by default) for sigma = 0.5..0.9 with the
# paper's settings (400 epochs, batch 40), one python model/main.py run each:
#   bash run_tvsum_splits.sh [--demo] [any model/main.py argument, e.g. --exp_dir Summaries/exp2 --device cpu]
# Sequential and resumable by default (run it again to finish an interrupted grid); also --jobs N (N runs at once),
# --slurm [--sbatch="OPTIONS"] (a SLURM job array and a dependent evaluation job), --print_grid (one command per run),
# --seeds S1,S2,... (one experiment per seed in {exp_dir}/seed{S}/), --threads T; docs/cluster.md, or
# python experiments/run_splits.py -h. --demo trains and evaluates a small generated TVSum-shaped dataset.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python "$root/experiments/run_splits.py" --video_type TVSum --batch_size 40 "$@"
