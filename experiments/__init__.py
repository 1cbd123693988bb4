"""The protocol around single training runs: the grid of splits x sigmas (x seeds), run one after the other, a few
at a time, or as a SLURM job array, and evaluated at the end."""
