"""data/download.py against a local HTTP server on 127.0.0.1 standing in for GitHub and Zenodo (via --mirror).

The server serves the authors' real splits and RAR5 TVSum annotations (found by tests/conftest.py), h5 archives built
here (7z and tar.gz under the authors' .rar names: archives are recognised by content), and zips in the released-models
layout. It can cut a transfer half-way once and ignore Range requests, to exercise resuming.
"""
import hashlib
import io
import socket
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import h5py
import libarchive
import numpy as np
import pytest

from common.errors import UserError
from data import download
from tests.conftest import dataset_file

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = ["--timeout", "5"]
SPLITS = ("summe_splits.json", "tvsum_splits.json", "summe_splits_50.json", "tvsum_splits_50.json")
H5_ARCHIVES = {"eccv16_dataset_summe_google_pool5.rar": ("SumMe", "7zip", None),
               "eccv16_dataset_tvsum_google_pool5.rar": ("TVSum", "ustar", "gzip")}


class Files(BaseHTTPRequestHandler):
    """GET /<name> from server.files, honouring `Range: bytes=N-` unless server.ignore_range; logs every request."""
    timeout = 5

    def do_GET(self):
        srv = self.server
        name = self.path.lstrip("/")
        asked = self.headers.get("Range")
        srv.requests.append((name, asked))
        data = srv.files.get(name)
        if data is None:
            self.send_error(404)
            return
        start = int(asked.removeprefix("bytes=").rstrip("-")) if asked and not srv.ignore_range else 0
        if start >= len(data) > 0:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if name in srv.cut_once:
            srv.cut_once.discard(name)
            body = body[:len(body) // 2]
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    srv.files, srv.requests, srv.cut_once, srv.ignore_range = {}, [], set(), False
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def tiny_h5(tmp_path, video_type):
    """A one-video h5 file in the benchmark layout, as bytes."""
    path = tmp_path / f"{video_type}.h5"
    with h5py.File(path, "w") as f:
        f["video_1/features"] = np.arange(12, dtype=np.float32).reshape(3, 4)
        f["video_1/n_frames"] = 45
    return path.read_bytes()


def archive_bytes(tmp_path, members, format_name, filter_name=None):
    """An archive (any libarchive write format) holding {member path: bytes}."""
    path = tmp_path / f"built.{format_name}"
    with libarchive.file_writer(str(path), format_name, filter_name) as archive:
        for name, data in members.items():
            archive.add_file_from_memory(name, len(data), data)
    return path.read_bytes()


def models_zip(prefix, skip=()):
    """A zip in the released-models layout: {prefix}{SumMe,TVSum}/split{k}/<checkpoint>, minus the `skip` folders."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for video_type in ("SumMe", "TVSum"):
            for k in range(5):
                if f"{video_type}/split{k}" not in skip:
                    z.writestr(f"{prefix}{video_type}/split{k}/epoch-{k}.pkl", f"{video_type} {k}".encode())
    return buf.getvalue()


@pytest.fixture
def dataset_files(anno_path, tmp_path):
    """What the authors' data/ folder serves: real splits and annotations, h5 archives built here; and the h5s."""
    files = {name: dataset_file(f"splits/{name}").read_bytes() for name in SPLITS}
    files["ydata-anno.rar"] = anno_path.read_bytes()
    h5s = {}
    for name, (video_type, format_name, filter_name) in H5_ARCHIVES.items():
        member = name.replace(".rar", ".h5")
        h5s[video_type] = tiny_h5(tmp_path, video_type)
        files[name] = archive_bytes(tmp_path, {member: h5s[video_type]}, format_name, filter_name)
    return files, h5s


def run(server, dest, *args):
    download.main([*args, "--dest", str(dest), "--mirror", server.url, *TIMEOUT])


def test_layout_matches_the_default_paths():
    from common.paths import REPO_ROOT, default_dataset_file, default_splits_file
    assert download.build_parser().get_default("dest") == REPO_ROOT
    provided = set()
    for item in download.ITEMS["datasets"]:
        provided.add(item.path)
        if item.member:
            provided.add(str(Path(item.path).with_name(item.member)))
    for video_type in ("SumMe", "TVSum"):
        assert str(default_dataset_file(video_type).relative_to(REPO_ROOT)) in provided
        assert str(default_splits_file(video_type).relative_to(REPO_ROOT)) in provided
    assert "data/TVSum/ydata-anno.tsv" in provided


def test_por_splits_come_from_the_por_authors_repository():
    por = {item.path: item.url for item in download.ITEMS["datasets"] if item.name.endswith("_50.json")}
    base = "https://raw.githubusercontent.com/e-apostolidis/PoR-Summarization-Measure/master/data/splits"
    assert por == {"data/splits/summe_splits_50.json": f"{base}/summe_splits.json",
                   "data/splits/tvsum_splits_50.json": f"{base}/tvsum_splits.json"}


def test_published_checksums_are_those_of_the_authors_files():
    known = {item.name: item.sha256 for item in download.ITEMS["datasets"] if item.sha256}
    assert known == {
        "summe_splits.json": hashlib.sha256(dataset_file("splits/summe_splits.json").read_bytes()).hexdigest(),
        "tvsum_splits.json": hashlib.sha256(dataset_file("splits/tvsum_splits.json").read_bytes()).hexdigest(),
        "summe_splits_50.json": hashlib.sha256(dataset_file("splits/summe_splits_50.json").read_bytes()).hexdigest(),
        "tvsum_splits_50.json": hashlib.sha256(dataset_file("splits/tvsum_splits_50.json").read_bytes()).hexdigest(),
        "ydata-anno.rar": hashlib.sha256(dataset_file("TVSum/ydata-anno.rar").read_bytes()).hexdigest(),
    }


def test_datasets_are_fetched_unpacked_then_skipped(server, dataset_files, tmp_path, capsys):
    server.files, h5s = dataset_files
    dest = tmp_path / "repo"
    run(server, dest, "datasets")
    for name in SPLITS:
        assert (dest / "data/splits" / name).read_bytes() == server.files[name]
    assert (dest / "data/TVSum/ydata-anno.rar").read_bytes() == server.files["ydata-anno.rar"]
    rows = (dest / "data/TVSum/ydata-anno.tsv").read_text().splitlines()
    assert len(rows) == 1000 and all(len(row.split("\t")) == 3 for row in rows)
    for video_type in ("SumMe", "TVSum"):
        folder = dest / "data" / video_type
        h5 = folder / f"eccv16_dataset_{video_type.lower()}_google_pool5.h5"
        assert h5.read_bytes() == h5s[video_type]
        with h5py.File(h5) as f:
            assert f["video_1/features"].shape == (3, 4)
        assert not list(folder.glob("eccv16_*.rar"))  # the h5 archives are dropped once unpacked
    assert not list(dest.rglob("*.part")) and not list(dest.rglob(".*.tmp"))
    out = capsys.readouterr().out
    tsv_sha = hashlib.sha256((dest / "data/TVSum/ydata-anno.tsv").read_bytes()).hexdigest()
    assert f"data/splits/summe_splits.json: downloaded, sha256 {download.ITEMS['datasets'][0].sha256} (verified)" in out
    assert f"data/TVSum/ydata-anno.tsv: unpacked from ydata-anno.rar, sha256 {tsv_sha}" in out
    assert "eccv16_dataset_summe_google_pool5.rar: downloaded, sha256" in out
    assert "(no published checksum)" in out
    assert sorted(name for name, _ in server.requests) == sorted(server.files)

    server.requests.clear()
    run(server, dest, "datasets")
    assert server.requests == []
    out = capsys.readouterr().out
    assert out.count("already present") == 8
    assert "data/TVSum/ydata-anno.rar: already present (sha256 fbbdc950" in out

    run(server, dest, "datasets", "--force")
    assert len(server.requests) == 7


def test_interrupted_transfer_resumes_with_a_range_request(server, dataset_files, tmp_path):
    server.files, _ = dataset_files
    server.cut_once.add("ydata-anno.rar")
    size = len(server.files["ydata-anno.rar"])
    dest = tmp_path / "repo"
    with pytest.raises(UserError, match=rf"^{server.url}/ydata-anno.rar: transfer interrupted after {size // 2} "
                                        rf"of {size} bytes; run the same command again to resume$"):
        run(server, dest, "datasets")
    part = dest / "data/TVSum/ydata-anno.rar.part"
    assert part.stat().st_size == size // 2
    assert not (dest / "data/TVSum/ydata-anno.rar").exists()

    server.requests.clear()
    run(server, dest, "datasets")
    assert ("ydata-anno.rar", f"bytes={size // 2}-") in server.requests
    assert not part.exists()
    assert (dest / "data/TVSum/ydata-anno.rar").read_bytes() == server.files["ydata-anno.rar"]
    assert (dest / "data/TVSum/ydata-anno.tsv").stat().st_size == 14109120


def test_server_ignoring_range_makes_the_download_start_over(server, dataset_files, tmp_path):
    server.files, _ = dataset_files
    server.cut_once.add("tvsum_splits.json")
    server.ignore_range = True
    dest = tmp_path / "repo"
    with pytest.raises(UserError, match="tvsum_splits.json: transfer interrupted"):
        run(server, dest, "datasets")
    run(server, dest, "datasets")
    assert (dest / "data/splits/tvsum_splits.json").read_bytes() == server.files["tvsum_splits.json"]


def test_complete_part_file_is_finished_after_a_416(server, dataset_files, tmp_path):
    server.files, _ = dataset_files
    dest = tmp_path / "repo"
    (dest / "data/splits").mkdir(parents=True)
    (dest / "data/splits/summe_splits.json.part").write_bytes(server.files["summe_splits.json"])
    run(server, dest, "datasets")
    assert ("summe_splits.json", f"bytes={len(server.files['summe_splits.json'])}-") in server.requests
    assert (dest / "data/splits/summe_splits.json").read_bytes() == server.files["summe_splits.json"]


def test_checksum_mismatch_deletes_the_download(server, dataset_files, tmp_path):
    server.files, _ = dataset_files
    bad = server.files["summe_splits.json"].replace(b"video_1", b"video_9")
    server.files["summe_splits.json"] = bad
    dest = tmp_path / "repo"
    expected = download.ITEMS["datasets"][0].sha256
    got = hashlib.sha256(bad).hexdigest()
    with pytest.raises(UserError) as err:
        run(server, dest, "datasets")
    assert str(err.value) == (f"{server.url}/summe_splits.json: checksum mismatch for summe_splits.json: "
                              f"expected sha256 {expected}, got {got} (download deleted)")
    assert not list((dest / "data/splits").iterdir())


def test_modified_local_file_is_downloaded_again(server, dataset_files, tmp_path, capsys):
    server.files, _ = dataset_files
    dest = tmp_path / "repo"
    (dest / "data/splits").mkdir(parents=True)
    (dest / "data/splits/tvsum_splits.json").write_text("[]")
    run(server, dest, "datasets")
    assert "data/splits/tvsum_splits.json: present but its sha256 differs from the published one, downloading it " \
           "again" in capsys.readouterr().out
    assert (dest / "data/splits/tvsum_splits.json").read_bytes() == server.files["tvsum_splits.json"]


@pytest.mark.parametrize("prefix", ["", "pretrained_models/", "icmr22/pretrained_models/"])
def test_models_zip_unpacks_into_the_inference_layout(server, tmp_path, prefix, capsys):
    server.files["icmr22_zenodo_pretrained_models.zip"] = models_zip(prefix)
    dest = tmp_path / "repo"
    stale = dest / "inference/pretrained_models/SumMe/split0/old.pkl"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"incomplete earlier tree")
    run(server, dest, "models")
    tree = dest / "inference/pretrained_models"
    for video_type in ("SumMe", "TVSum"):
        for k in range(5):
            assert [p.name for p in (tree / video_type / f"split{k}").iterdir()] == [f"epoch-{k}.pkl"]
            assert (tree / video_type / f"split{k}" / f"epoch-{k}.pkl").read_bytes() == f"{video_type} {k}".encode()
    assert sorted(p.name for p in (dest / "inference").iterdir()) == ["pretrained_models"]  # zip and staging gone
    assert capsys.readouterr().out.count(": unpacked from icmr22_zenodo_pretrained_models.zip, sha256 ") == 10

    server.requests.clear()
    run(server, dest, "models")
    assert server.requests == []
    assert "inference/pretrained_models: already present (10 checkpoints), skipped" in capsys.readouterr().out


BAD_MODEL_ARCHIVES = {
    "not-an-archive": (lambda tmp: b"<html>Not here</html>", "bad archive: Unrecognized archive format"),
    "missing-split": (lambda tmp: models_zip("pretrained_models/", skip={"TVSum/split3"}),
                      "bad archive: TVSum/split3 holds 0 files, expected one checkpoint"),
    "unsafe-path": (lambda tmp: archive_bytes(tmp, {"../evil.pkl": b"x", "SumMe/split0/a.pkl": b"y"}, "zip"),
                    "bad archive: unsafe member path '../evil.pkl'"),
}


@pytest.mark.parametrize("case", BAD_MODEL_ARCHIVES)
def test_bad_models_archive_fails_and_is_deleted(server, tmp_path, case):
    build, message = BAD_MODEL_ARCHIVES[case]
    server.files["icmr22_zenodo_pretrained_models.zip"] = build(tmp_path)
    dest = tmp_path / "repo"
    with pytest.raises(UserError) as err:
        run(server, dest, "models")
    assert str(err.value) == f"{dest}/inference/icmr22_zenodo_pretrained_models.zip: {message} (download deleted)"
    assert list((dest / "inference").iterdir()) == []
    assert not (tmp_path / "evil.pkl").exists() and not (dest / "evil.pkl").exists()


def test_missing_libarchive_keeps_the_download_for_the_next_run(server, tmp_path, monkeypatch, capsys):
    server.files["icmr22_zenodo_pretrained_models.zip"] = models_zip("pretrained_models/")
    dest = tmp_path / "repo"
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "libarchive", None)
        with pytest.raises(UserError, match=r"icmr22_zenodo_pretrained_models.zip: cannot unpack: libarchive is not "
                                            r"usable .*apt-get install libarchive13"):
            run(server, dest, "models")
    assert (dest / "inference/icmr22_zenodo_pretrained_models.zip").is_file()
    server.requests.clear()
    run(server, dest, "models")
    assert server.requests == []
    assert "inference/icmr22_zenodo_pretrained_models.zip: already downloaded, unpacking" in capsys.readouterr().out
    assert len(list((dest / "inference/pretrained_models").glob("*/split*/*.pkl"))) == 10


def test_file_url_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "icmr22_zenodo_pretrained_models.zip").write_bytes(models_zip(""))
    download.main(["models", "--dest", str(tmp_path / "repo"), "--mirror", mirror.as_uri()])
    assert len(list((tmp_path / "repo/inference/pretrained_models").glob("*/split*/*.pkl"))) == 10


def test_a_folder_as_mirror_and_a_file_missing_from_it(tmp_path, capsys):
    """--mirror FOLDER is its file:// URL; a file that is not there is said to be missing from the folder, not a
    network failure."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "icmr22_zenodo_pretrained_models.zip").write_bytes(models_zip(""))
    download.main(["models", "--dest", str(tmp_path / "repo"), "--mirror", str(mirror)])
    assert len(list((tmp_path / "repo/inference/pretrained_models").glob("*/split*/*.pkl"))) == 10
    with pytest.raises(UserError) as error:
        download.main(["datasets", "--dest", str(tmp_path / "repo"), "--mirror", str(mirror)])
    assert str(error.value).startswith(f"{mirror.as_uri()}/summe_splits.json: cannot read the file (")
    assert str(error.value).endswith("): put it in the --mirror folder under that name")
    with pytest.raises(SystemExit):
        download.main(["models", "--mirror", str(tmp_path / "nowhere")])
    assert "--mirror must be a folder or an http://, https:// or file:// URL, got " in capsys.readouterr().err


def test_unreachable_server_is_one_line_naming_the_other_ways(tmp_path):
    """Offline, the error says how else to get the files: a mirror, or by hand (data/README.md)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UserError) as error:
        download.main(["datasets", "--dest", str(tmp_path), "--mirror", f"http://127.0.0.1:{port}", *TIMEOUT])
    assert str(error.value) == f"http://127.0.0.1:{port}/summe_splits.json: cannot connect: Connection refused" + \
        download.OTHER_WAYS
    assert "--mirror URL or FOLDER" in download.OTHER_WAYS and "data/README.md" in download.OTHER_WAYS


def test_cli_reports_http_404_in_one_line_and_exits_non_zero(server, tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "data/download.py"), "datasets", "--dest", str(tmp_path),
                           "--mirror", server.url + "/", *TIMEOUT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == f"error: {server.url}/summe_splits.json: HTTP 404 Not Found{download.OTHER_WAYS}\n"
    assert list(tmp_path.rglob("*")) == []  # no .part file, and no empty data/splits/ folder


def test_mrhisum_split_is_fetched_checked_and_the_h5_explained(server, tmp_path, capsys):
    split = dataset_file("MrHiSum/mr_hisum_split.json")
    assert download.ITEMS["mrhisum"][0].sha256 == hashlib.sha256(split.read_bytes()).hexdigest()
    server.files = {"mr_hisum_split.json": split.read_bytes()}
    run(server, tmp_path / "repo", "mrhisum")
    assert (tmp_path / "repo/data/MrHiSum/mr_hisum_split.json").read_bytes() == split.read_bytes()
    out = capsys.readouterr().out
    assert "(verified)" in out and "mr_hisum.h5: not downloadable; build it from the YouTube-8M" in out
    server.files = {"mr_hisum_split.json": b'{"train_keys": []}'}
    with pytest.raises(UserError, match="checksum mismatch for mr_hisum_split.json"):
        run(server, tmp_path / "other", "mrhisum")
