"""importance.png: CA-SUM's importance of the sampled frames over time, the selected shots shaded."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_importance(path, title, times, scores, shots, duration):
    """Draw the scores of the sampled frames at `times` (seconds; each holds until the next) over the shots of a
    summary.json object (`shots`, the selected ones shaded) into the PNG file `path`."""
    fig, ax = plt.subplots(figsize=(10, 3), dpi=100)
    for shot in shots:
        if shot["selected"]:
            ax.axvspan(shot["start_sec"], shot["end_sec"], color="tab:orange", alpha=0.3, lw=0)
        ax.axvline(shot["start_sec"], color="0.75", lw=0.6, zorder=0)
    ax.step(list(times) + [duration], list(scores) + list(scores[-1:]), where="post", color="tab:blue", lw=1.2)
    ax.set_xlim(0, duration)
    ax.set_ylim(0, 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("importance")
    ax.set_title(title, fontsize=10)
    ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color="tab:orange", alpha=0.3)], labels=["selected shots"],
              loc="upper right", fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
