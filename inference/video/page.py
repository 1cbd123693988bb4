"""summary.html: one self-contained page to look at a summary (docs/video.md, "The page").

It shows the summary's warnings first, in red (why it may mean nothing: summary.json's "warnings"), plays
summary.mp4 and the source video (both by relative path, so the output folder can move with the video), and draws
the importance curve over time as inline SVG, with every shot a rectangle carrying `data-shot` (its index
in summary.json) and `data-selected` ("true" or "false"); the selected shots are highlighted. Clicking a shot seeks
the source video to the shot's start; a playhead follows the source video, and the shot playing in the summary is
marked. No network, no script or style from elsewhere: the page works from file:// and offline.
"""
import html
import json
import os
import urllib.parse
from pathlib import Path

from inference.video.report import SCORE_AXIS

WIDTH, HEIGHT = 1000, 220  # SVG user units; the page scales it to its width
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 10, 28

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .2em; }
.facts { color: #555; margin: 0 0 1em; }
.players { display: flex; gap: 1em; flex-wrap: wrap; }
figure { margin: 0; flex: 1 1 400px; }
figcaption { font-weight: 600; margin-bottom: .3em; }
video { width: 100%; background: #000; aspect-ratio: 16 / 9; }
svg { width: 100%; height: auto; margin-top: 1em; user-select: none; }
.shot { fill: #fff; stroke: #ccc; stroke-width: 0.5; cursor: pointer; }
.shot[data-selected="true"] { fill: #ffd8a8; }
.shot:hover { fill: #e7f0fa; }
.shot[data-selected="true"]:hover { fill: #ffc078; }
.shot.playing { stroke: #d9480f; stroke-width: 2; }
.curve { fill: none; stroke: #1c7ed6; stroke-width: 1.5; pointer-events: none; }
.axis { stroke: #444; stroke-width: 1; }
.tick { font-size: 11px; fill: #444; }
#playhead { stroke: #c92a2a; stroke-width: 1.5; pointer-events: none; }
.legend { color: #555; margin-top: .3em; }
.warning { background: #fff5f5; border: 2px solid #c92a2a; color: #c92a2a; font-weight: 600; padding: .5em .8em;
           margin: 0 0 1em; }
.swatch { display: inline-block; width: 1em; height: .8em; background: #ffd8a8; border: 1px solid #ccc;
          vertical-align: -1px; }
"""

SCRIPT = """
const source = document.getElementById("source");
const summary = document.getElementById("summary");
const shots = Array.from(document.querySelectorAll("[data-shot]"));
const playhead = document.getElementById("playhead");
const axis = JSON.parse(document.getElementById("axis").textContent);
shots.forEach((shot) => shot.addEventListener("click", () => {
  source.currentTime = Number(shot.dataset.start);
}));
source.addEventListener("timeupdate", () => {
  const x = axis.left + source.currentTime / axis.duration * axis.width;
  playhead.setAttribute("x1", x);
  playhead.setAttribute("x2", x);
});
const selected = shots.filter((shot) => shot.dataset.selected === "true");
summary.addEventListener("timeupdate", () => {
  let t = summary.currentTime;
  selected.forEach((shot) => shot.classList.remove("playing"));
  for (const shot of selected) {
    const length = Number(shot.dataset.end) - Number(shot.dataset.start);
    if (t < length) { shot.classList.add("playing"); break; }
    t -= length;
  }
});
"""


def media_url(target: Path, folder: Path) -> str:
    """`target` as a URL relative to the page in `folder` (absolute file: URL when no relative path exists)."""
    try:
        relative = os.path.relpath(Path(target).resolve(), Path(folder).resolve())
    except ValueError:  # another drive
        return Path(target).resolve().as_uri()
    return urllib.parse.quote(Path(relative).as_posix())


def timeline_svg(record: dict) -> str:
    """The SVG of the shots (rectangles) and the importance curve (polyline) of a summary.json object."""
    duration = record["duration_sec"]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    low, high = SCORE_AXIS

    def x(t):
        return LEFT + t / duration * plot_w

    def y(v):
        return TOP + (high - v) / (high - low) * plot_h

    parts = [f'<svg id="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="importance over time; click a shot to play it in the source video">']
    for k, shot in enumerate(record["shots"]):
        start, end = shot["start_sec"], shot["end_sec"]
        state = "selected" if shot["selected"] else "not selected"
        parts.append(f'<rect class="shot" data-shot="{k}" data-selected="{str(shot["selected"]).lower()}" '
                     f'data-start="{start!r}" data-end="{end!r}" x="{x(start):.2f}" y="{TOP}" '
                     f'width="{max(x(end) - x(start), 0.5):.2f}" height="{plot_h}">'
                     f'<title>shot {k} ({shot["origin"]}): {start:.2f}-{end:.2f} s, score {shot["score"]:.3f}, '
                     f'{state}</title></rect>')
    seconds = record["sampled_sec"]
    points = []
    for i, score in enumerate(record["frame_scores"]):
        nxt = seconds[i + 1] if i + 1 < len(seconds) else duration
        points.append(f"{x(seconds[i]):.2f},{y(score):.2f} {x(nxt):.2f},{y(score):.2f}")
    parts.append(f'<polyline class="curve" points="{" ".join(points)}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>')
    for v in (0.0, 0.5, 1.0):
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y(v) + 4:.2f}" text-anchor="end">{v:g}</text>')
    step = nice_step(duration)
    t = 0.0
    while t <= duration + 1e-9:
        parts.append(f'<text class="tick" x="{x(t):.2f}" y="{HEIGHT - 8}" text-anchor="middle">{t:g}</text>')
        t += step
    parts.append(f'<line id="playhead" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def nice_step(duration: float) -> float:
    """A round tick spacing (1, 2 or 5 times a power of ten) giving at most about 12 time ticks."""
    step = 1.0
    while duration / step > 12:
        for factor in (2, 2.5, 2):
            step *= factor
            if duration / step <= 12:
                break
    return step


def summary_page(record: dict, folder: Path, video: Path, summary_name: str = "summary.mp4") -> str:
    """The HTML of summary.html for a summary.json object, the page living in `folder` beside `summary_name`.

    Args:
        record: the summary.json object (report.summary_record).
        folder: the output folder (the page's location, for the relative path to the video).
        video: the source video.
        summary_name: the summary video's file name in `folder`.
    Returns:
        The page's text.
    """
    shots = record["shots"]
    kept = sum(s["end_frame"] - s["start_frame"] + 1 for s in shots if s["selected"])
    name = html.escape(Path(record["video"]).name)
    axis = {"left": LEFT, "width": WIDTH - LEFT - RIGHT, "duration": record["duration_sec"]}
    facts = (f'{sum(s["selected"] for s in shots)} of {len(shots)} shots, {kept} of {record["n_frames"]} frames '
             f'({kept / record["n_frames"]:.1%}, budget {record["summary_ratio"]:g}); '
             f'{record["duration_sec"]:.1f} s at {record["fps"]:g} fps; checkpoint '
             f'{html.escape(Path(record["checkpoint"]).name)}')
    warnings = "".join(f'<p class="warning">Warning: {html.escape(text)}</p>\n' for text in record["warnings"])
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{name}: CA-SUM summary</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{name}: CA-SUM summary</h1>
{warnings}<p class="facts">{facts}</p>
<div class="players">
<figure><figcaption>Summary</figcaption>
<video id="summary" src="{html.escape(urllib.parse.quote(summary_name))}" controls preload="metadata"></video>
</figure>
<figure><figcaption>Source video</figcaption>
<video id="source" src="{html.escape(media_url(video, folder))}" controls preload="metadata"></video>
</figure>
</div>
{timeline_svg(record)}
<p class="legend"><span class="swatch"></span> selected shots &nbsp; blue: CA-SUM importance of the sampled frames
&nbsp; red: the source video's position. Click a shot to play it in the source video.</p>
<script type="application/json" id="axis">{json.dumps(axis)}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""
