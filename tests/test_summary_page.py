"""summary.html in a real browser: headless Chromium (Debian's `chromium`) opens the page from file://, and the test
checks the shot elements against summary.json, that both videos load, that clicking a shot seeks the source video
to it, and takes a screenshot (summary_page.png in the test's folder)."""
import json

import pytest

pytestmark = pytest.mark.slow  # a browser

for _module in ("av", "torchvision", "matplotlib"):
    pytest.importorskip(_module, reason=f"{_module} is not installed (the video path: requirements-video.txt)")

from inference import summarize_video
from tests.cdp import Browser, find_chromium
from tests.video_files import make_weights, write_video


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A 15-second, three-scene video in videos/ and its outputs in out/ (the page reaches the video by
    ../videos/...)."""
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium): the page test needs a real browser")
    root = tmp_path_factory.mktemp("page")
    (root / "videos").mkdir()
    video = write_video(root / "videos" / "three scenes.mp4", 450)
    backbone, checkpoint = make_weights(root)
    summarize_video.main([str(video), "--checkpoint", str(checkpoint), "--backbone_weights", str(backbone),
                          "-o", str(root / "out"), "--summary_ratio", "0.4"])
    record = json.loads((root / "out" / "summary.json").read_text())
    with Browser(chromium) as browser:
        browser.open((root / "out" / "summary.html").as_uri())
        yield browser, record, root


def test_page_is_self_contained(page):
    _, _, root = page
    text = (root / "out" / "summary.html").read_text()
    assert "http://" not in text and "https://" not in text and "//cdn" not in text
    assert 'src="../videos/three%20scenes.mp4"' in text and 'src="summary.mp4"' in text


def test_shot_elements_match_summary_json(page):
    browser, record, _ = page
    shots = browser.evaluate("Array.from(document.querySelectorAll('[data-shot]')).map(e => "
                             "[Number(e.dataset.shot), e.dataset.selected, Number(e.dataset.start), "
                             "Number(e.dataset.end), e.getBoundingClientRect().width > 0])")
    assert shots == [[k, str(s["selected"]).lower(), s["start_sec"], s["end_sec"], True]
                     for k, s in enumerate(record["shots"])]
    assert any(s["selected"] for s in record["shots"]) and not all(s["selected"] for s in record["shots"])
    colours = browser.evaluate("Array.from(document.querySelectorAll('[data-shot]')).map(e => "
                               "getComputedStyle(e).fill)")
    selected = {c for c, s in zip(colours, record["shots"]) if s["selected"]}
    others = {c for c, s in zip(colours, record["shots"]) if not s["selected"]}
    assert len(selected) == 1 and len(others) == 1 and selected != others


def test_both_videos_load(page):
    browser, record, _ = page
    durations = browser.wait_for("(() => { const v = ['summary', 'source'].map(i => document.getElementById(i)); "
                                 "return v.every(e => e.readyState >= 1 && !e.error) && v.map(e => e.duration); })()")
    kept = sum(s["end_sec"] - s["start_sec"] for s in record["shots"] if s["selected"])
    assert durations[0] == pytest.approx(kept, abs=0.1)
    assert durations[1] == pytest.approx(record["duration_sec"], abs=0.1)


def test_clicking_a_shot_seeks_the_source_video(page):
    browser, record, root = page
    browser.wait_for("document.getElementById('source').readyState >= 1")
    for k in (len(record["shots"]) - 1, 1):
        x, y = browser.evaluate(f"(() => {{ const r = document.querySelector('[data-shot=\"{k}\"]')"
                                f".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()")
        browser.click(x, y)
        time = browser.wait_for(f"(() => {{ const v = document.getElementById('source'); "
                                f"return !v.seeking && Math.abs(v.currentTime - {record['shots'][k]['start_sec']}) "
                                f"< 0.05 && v.currentTime + 1e-9; }})()")
        assert time == pytest.approx(record["shots"][k]["start_sec"], abs=0.05)
    browser.wait_for("document.getElementById('playhead').getAttribute('x1') !== '46'")
    browser.screenshot(root / "summary_page.png")
    assert (root / "summary_page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
