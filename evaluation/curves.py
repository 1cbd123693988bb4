"""What model selection saw, per run and in one picture (docs/evaluation.md, "Curves"): each run's training loss
and test F1 per epoch, logged into the run's TensorBoard folder next to `loss_epoch`, and {exp_dir}/{Dataset}_curves.png
with one panel per split showing why a sigma and an epoch were chosen."""
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import fileio
from evaluation.experiment import Grid, read_f_scores, read_loss_log
from evaluation.fscores import f_scores_path
from evaluation.protocol import is_protocol
from evaluation.scalars import write_evaluation_events
from evaluation.selection import select_epoch, selection_window

COLUMNS = 5  # panels per row of the picture
PANEL_INCHES = (4.4, 5.4)  # width, height of one split's panel
DPI = 100


@dataclass
class RunCurves:
    """One run's numbers per epoch: loss (and its wall time) for epochs 0.., F1 for epochs -1.. (f_scores.txt)."""
    wall_times: list[float]
    losses: list[float]
    f_scores: np.ndarray

    def wall_time(self, epoch: int) -> float:
        """The wall time training logged at `epoch`, 0 past the last logged epoch."""
        return self.wall_times[epoch] if epoch < len(self.wall_times) else 0.0


def read_curves(grid: Grid, eval_method: str) -> dict[tuple[float, int], RunCurves]:
    """The RunCurves of every run of the grid, {(sigma, split): curves}, with the F-scores of `eval_method`."""
    return {key: RunCurves(*read_loss_log(run.log_dir / "scalars.csv"),
                           read_f_scores(f_scores_path(run.results_dir, grid.dataset, eval_method)))
            for key, run in grid.runs.items()}


def log_run_scalars(grid: Grid, report: dict, curves: dict[tuple[float, int], RunCurves]) -> None:
    """Write each run's evaluation into its TensorBoard log folder: `f_score` (test F1) at every epoch 0.., and
    for the run each split chose, Spearman's `rho` and Kendall's `tau` at its chosen epoch when the report has them.
    Each scalar takes the wall time training logged for that epoch (0 past the last logged epoch)."""
    chosen = {(entry["sigma"], entry["split"]): entry for entry in report["splits"]}
    for key, run in grid.runs.items():
        run_curves = curves[key]
        scalars = [("f_score", float(f), epoch, run_curves.wall_time(epoch))
                   for epoch, f in enumerate(run_curves.f_scores[1:])]
        entry = chosen.get(key)
        if entry is not None:
            at = run_curves.wall_time(entry["epoch"])
            scalars += [(tag, entry[tag], entry["epoch"], at) for tag in ("rho", "tau") if entry[tag] is not None]
        write_evaluation_events(run.log_dir, scalars)


def figure_size(n_splits: int) -> tuple[int, int]:
    """(width, height) in pixels of the picture of `n_splits` splits: COLUMNS panels per row."""
    columns, rows = min(n_splits, COLUMNS), math.ceil(n_splits / COLUMNS)
    return round(columns * PANEL_INCHES[0] * DPI), round(rows * PANEL_INCHES[1] * DPI)


def loss_limits(eligible: np.ndarray) -> tuple[float, float]:
    """The loss axis' limits: the losses `eligible` for selection with a margin, in log scale when they are
    positive (a share of the span in decades, at least a factor of about 1.05), so that no curve inside the window
    runs along the frame."""
    low, high = float(eligible.min()), float(eligible.max())
    if low > 0:
        pad = max(np.log(high / low), np.log(1.5)) * 0.12
        return low * np.exp(-pad), high * np.exp(pad)
    margin = 0.12 * (high - low) or 0.05
    return low - margin, high + margin


def plot_curves(grid: Grid, report: dict, curves: dict[tuple[float, int], RunCurves], path: Path) -> Path:
    """Write the picture of the model selection to `path` (PNG, figure_size(len(grid.splits)) pixels).

    Per split: the training loss (top, its axis spanning the losses inside the selection window, which the choice
    compares, in log scale when they are positive) and the test F1 (bottom) per epoch of every sigma, the legend
    giving each
    sigma's improvement (the number the choice maximises; the chosen sigma in bold lines), every sigma's
    loss-selected epoch as a dot, the chosen epoch as a dashed line, the best test epoch of the chosen sigma as a
    star, the epochs outside the selection window shaded, and the split's random and human F1 as horizontal lines.
    The F1 axis names the reduction over the user summaries, in red when it is not the paper's for the dataset.
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure  # drawn without pyplot: no backend chosen for the caller's process
    from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator, NullFormatter

    entries = {entry["split"]: entry for entry in report["splits"]}
    width, height = figure_size(len(grid.splits))
    columns, rows = min(len(grid.splits), COLUMNS), math.ceil(len(grid.splits) / COLUMNS)
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    inches = height / DPI
    cells = figure.add_gridspec(rows, columns, left=0.6 * DPI / width, right=1 - 0.1 * DPI / width,
                                top=1 - 0.45 / inches, bottom=0.05 / inches, wspace=0.22, hspace=0.16)
    colours = [colormaps["tab10"](k % 10) for k in range(len(grid.sigmas))]
    protocol = is_protocol(report["dataset"], report["eval_method"])
    reduction = report["eval_method"] if protocol else f"{report['eval_method']}: not the paper's"
    improvements = np.array(report["improvements"], dtype=float)
    for index, split in enumerate(grid.splits):
        entry = entries[split]
        loss_axis, f_axis, legend_axis = cells[index // COLUMNS, index % COLUMNS].subgridspec(
            3, 1, height_ratios=(1, 2, 1.15), hspace=0.12).subplots()
        f_axis.sharex(loss_axis)
        loss_axis.tick_params(labelbottom=False)
        for row, (sigma, colour) in enumerate(zip(grid.sigmas, colours)):
            run_curves = curves.get((sigma, split))
            if run_curves is None:
                continue
            chosen = sigma == entry["sigma"]
            style = {"color": colour, "linewidth": 1.8 if chosen else 0.8, "alpha": 1.0 if chosen else 0.6,
                     "zorder": 3 if chosen else 2}
            selected = select_epoch(run_curves.losses)
            loss_axis.plot(np.arange(len(run_curves.losses)), run_curves.losses, **style)
            value = improvements[row, split]
            label = f"\u03c3={sigma}: {'n/a' if np.isnan(value) else f'{value:.3f}'}" + (" (chosen)" if chosen else "")
            f_axis.plot(np.arange(len(run_curves.f_scores) - 1), run_curves.f_scores[1:], label=label, **style)
            f_axis.plot([selected], [run_curves.f_scores[selected + 1]], "o", color=colour, markersize=4, zorder=4)
            loss_axis.plot([selected], [run_curves.losses[selected]], "o", color=colour, markersize=4, zorder=4)
        n_epochs = max(len(curves[key].losses) for key in curves if key[1] == split)
        window = selection_window(n_epochs)
        losses = [np.asarray(curves[key].losses) for key in curves if key[1] == split]
        eligible = np.concatenate([run_losses[window.start:window.stop] for run_losses in losses])
        low, high = loss_limits(eligible)
        if eligible.min() > 0:  # log scale: the floors the lowest losses come from stand apart
            loss_axis.set_yscale("log")
            decades = np.log10(high / low)
            loss_axis.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5) if decades < 1.5 else (1,), numticks=4))
            loss_axis.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            loss_axis.yaxis.set_minor_formatter(NullFormatter())
        loss_axis.set_ylim(low, high)
        if max(run_losses.max() for run_losses in losses) > high:  # the epochs before the window, off the scale
            loss_axis.text(0.01, 0.96, f"\u2191 losses above the axis: before epoch {window.start}",
                           transform=loss_axis.transAxes, ha="left", va="top", fontsize=6, color="0.3", zorder=6,
                           bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1})
        for axis in (loss_axis, f_axis):
            axis.axvspan(-0.5, window.start - 0.5, color="0.92", zorder=0)
            if window.stop < n_epochs:
                axis.axvspan(window.stop - 0.5, n_epochs - 0.5, color="0.92", zorder=0)
            axis.axvline(entry["epoch"], color="black", linestyle="--", linewidth=1, zorder=1)
            axis.grid(alpha=0.3)
            axis.tick_params(labelsize=7)
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        chosen_curves = curves[entry["sigma"], split]
        f_axis.plot([entry["best_epoch"]], [chosen_curves.f_scores[entry["best_epoch"] + 1]], "*", color="gold",
                    markeredgecolor="black", markersize=12, zorder=5, label=f"best test epoch {entry['best_epoch']}")
        f_axis.plot([], [], "--", color="black", linewidth=1, label=f"chosen epoch {entry['epoch']} (dots: each "
                                                                      f"\u03c3's lowest loss)")
        for name, key, line in (("random", "random_f_score", ":"), ("human", "human_f_score", "-.")):
            if entry.get(key) is not None:
                f_axis.axhline(entry[key], color="0.3", linestyle=line, linewidth=1.2, zorder=1,
                               label=f"{name} F1 {entry[key]:.2f}")
        loss_axis.set_title(f"split {split}: \u03c3={entry['sigma']}, epoch {entry['epoch']}, "
                            f"F1 {entry['f_score']:.2f}\nbest test epoch {entry['best_epoch']}: "
                            f"F1 {entry['best_epoch_f_score']:.2f} (looks at the test labels)", fontsize=8.5)
        loss_axis.set_ylabel("training loss", fontsize=8)
        f_axis.set_ylabel(f"test F1 ({reduction})", fontsize=8, color="black" if protocol else "red")
        f_axis.set_xlabel("epoch (grey: outside the selection window)", fontsize=7, labelpad=1)
        legend_axis.axis("off")
        legend_axis.legend(*f_axis.get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=6.5,
                           title="improvement over the untrained model (the choice maximises it)",
                           title_fontsize=6.5, frameon=False, columnspacing=1.0, handlelength=1.8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    fileio.write_bytes(path, buffer.getvalue())
    return Path(path)
