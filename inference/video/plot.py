"""importance.png: CA-SUM's importance of the sampled frames over time, the selected shots shaded.

Drawn on a matplotlib Figure of its own, not through pyplot: no backend to select, no global state."""
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from inference.video.report import SCORE_AXIS

BOUNDARY = {"color": "0.45", "lw": 0.7, "ls": (0, (3, 2)), "zorder": 0}  # where each shot starts, dashed


def plot_importance(path, title: str, times, scores, shots: list[dict], duration: float,
                    caveats: list[str] = ()) -> None:
    """Draw the scores of the sampled frames at `times` (seconds; each holds until the next) over the shots of a
    summary.json object (`shots`: each one's start a dashed line, the selected ones shaded) into the PNG file `path`;
    each of `caveats` (why the summary may mean nothing) in large red letters across the plot.

    The value axis has margins beyond [0, 1] (SCORE_AXIS) so that a constant curve at 0 or 1 stays visible, and the
    legend sits above the axes, clear of the data."""
    fig = Figure(figsize=(10, 3.2), dpi=100)
    ax = fig.subplots()
    for shot in shots:
        if shot["selected"]:
            ax.axvspan(shot["start_sec"], shot["end_sec"], color="tab:orange", alpha=0.3, lw=0)
        ax.axvline(shot["start_sec"], **BOUNDARY)
    ax.step(list(times) + [duration], list(scores) + list(scores[-1:]), where="post", color="tab:blue", lw=1.2,
            zorder=3, clip_on=False)
    ax.set_xlim(0, duration)
    ax.set_ylim(*SCORE_AXIS)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("importance")
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(handles=[Line2D([], [], color="tab:blue", lw=1.2),
                       Rectangle((0, 0), 1, 1, color="tab:orange", alpha=0.3), Line2D([], [], **BOUNDARY)],
              labels=["importance", "selected shots", "shot starts"], loc="lower right", bbox_to_anchor=(1, 1.0),
              ncol=3,
              fontsize=8, frameon=False, borderaxespad=0.2)
    if caveats:
        ax.text(0.5, 0.5, "\n".join(caveats), transform=ax.transAxes, ha="center", va="center", fontsize=15,
                fontweight="bold", color="#c92a2a", zorder=5,
                bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#c92a2a", "linewidth": 2})
    fig.tight_layout()
    fig.savefig(path, format="png")
