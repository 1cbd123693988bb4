"""Fetch CA-SUM's data and released models from the authors' public locations, verified and resumable.

    python data/download.py                 # datasets and models, into this checkout
    python data/download.py datasets        # h5 files, splits, TVSum annotations only
    python data/download.py models --mirror https://lab.example.org/ca-sum   # every file from {URL}/{file name}
    python data/download.py models --mirror ~/ca-sum-files                   # or from a folder
    python data/download.py mrhisum         # Mr.HiSum's split file (its h5 must be built: data/README.md)

What ends up where (relative to the checkout, or to --dest):
    data/splits/{summe,tvsum}_splits.json
    data/splits/{summe,tvsum}_splits_50.json   (the 50 random splits of "Performance over Random", from its authors)
    data/MrHiSum/mr_hisum_split.json
    data/TVSum/ydata-anno.rar and the ydata-anno.tsv unpacked from it
    data/{SumMe,TVSum}/eccv16_dataset_{summe,tvsum}_google_pool5.h5   (unpacked from the authors' .rar archives)
    inference/pretrained_models/{SumMe,TVSum}/split{0..4}/<checkpoint>   (unpacked from the Zenodo zip)

Every transfer is written to `<file>.part` and renamed only when complete and verified: an interrupted run leaves the
.part file, and the next run continues it with an HTTP Range request (or starts over if the server ignores Range).
Files with a published SHA-256 are checked; a mismatch deletes the download and fails. The SHA-256 of every file
fetched or unpacked is printed. Files already present (and verified, when their checksum is known) are skipped unless
--force. Archives are read with libarchive (RAR5, zip, 7z, tar...), whatever their extension.
"""
import argparse
import http.client
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.errors import UserError, run_cli
from common.fileio import atomic_path, file_sha256
from common.paths import REPO_ROOT

GITHUB_DATA = "https://github.com/e-apostolidis/CA-SUM/raw/main/data"
POR_SPLITS = "https://raw.githubusercontent.com/e-apostolidis/PoR-Summarization-Measure/master/data/splits"
ZENODO_MODELS = "https://zenodo.org/records/6562992/files/icmr22_zenodo_pretrained_models.zip?download=1"
MRHISUM_DATA = "https://github.com/MRHiSum/MR.HiSum/raw/main/dataset"
DATASETS = ("SumMe", "TVSum")
N_SPLITS = 5
CHUNK = 1 << 16
USER_AGENT = "CA-SUM-download/1.0 (Python urllib)"


@dataclass(frozen=True)
class Item:
    """One file to fetch.

    name: its file name under --mirror (on the authors' server too, except the PoR splits, which are named like the
    paper's there); url: the authors' URL; path: where
    the download is stored, relative to the destination; sha256: the published checksum, or None when unknown;
    member: the one file unpacked from this archive into the archive's folder; tree: the folder the released-models
    archive is unpacked into; keep: whether the downloaded archive stays after unpacking.
    """
    name: str
    url: str
    path: str
    sha256: str | None = None
    member: str | None = None
    tree: str | None = None
    keep: bool = True


def h5_item(video_type):
    """The authors' RAR archive of one dataset's h5 file; the h5 lands where common/paths.py expects it."""
    stem = f"eccv16_dataset_{video_type.lower()}_google_pool5"
    return Item(f"{stem}.rar", f"{GITHUB_DATA}/{video_type}/{stem}.rar", f"data/{video_type}/{stem}.rar",
                member=f"{stem}.h5", keep=False)


ITEMS = {
    "datasets": (
        Item("summe_splits.json", f"{GITHUB_DATA}/splits/summe_splits.json", "data/splits/summe_splits.json",
             sha256="8fb470a0f966627527cd22f01a16ce4011da1d66eca66a8592af9d3fa3857786"),
        Item("tvsum_splits.json", f"{GITHUB_DATA}/splits/tvsum_splits.json", "data/splits/tvsum_splits.json",
             sha256="81a865c25e8213d19988c972a14769585c65a97039ad5e4f1dbfbac1ee5454ff"),
        Item("summe_splits_50.json", f"{POR_SPLITS}/summe_splits.json", "data/splits/summe_splits_50.json",
             sha256="968eb46bd01f21ce411a0a57960b6442051d683015d2a196f72c10854d73860f"),
        Item("tvsum_splits_50.json", f"{POR_SPLITS}/tvsum_splits.json", "data/splits/tvsum_splits_50.json",
             sha256="f8bc5fcaf035205879eb641b8461fb66eddd60ed756dff537b2b1a20df79905d"),
        Item("ydata-anno.rar", f"{GITHUB_DATA}/TVSum/ydata-anno.rar", "data/TVSum/ydata-anno.rar",
             sha256="fbbdc950bdb0484535b79cbffa1f14416d79a3cdfb7156ed9b635fa28eb57dd1", member="ydata-anno.tsv"),
        h5_item("SumMe"),
        h5_item("TVSum"),
    ),
    "models": (
        Item("icmr22_zenodo_pretrained_models.zip", ZENODO_MODELS, "inference/icmr22_zenodo_pretrained_models.zip",
             tree="inference/pretrained_models", keep=False),
    ),
    "mrhisum": (
        Item("mr_hisum_split.json", f"{MRHISUM_DATA}/mr_hisum_split.json", "data/MrHiSum/mr_hisum_split.json",
             sha256="5c571d1d9f00b33662d631d85a62468dfb7599b096dc640d67873a2a0ba93f63"),
    ),
}
# Mr.HiSum's h5 holds YouTube-8M features, which its authors distribute only through their preprocessing.
# Said after every failure to reach a server: the other ways to get the files.
OTHER_WAYS = ("; check the network, or take every file from a mirror (--mirror URL or FOLDER: <file name> under it), "
              "or put the files in place by hand as data/README.md says (\"Getting them\")")
MRHISUM_H5_NOTE = ("data/MrHiSum/mr_hisum.h5: not downloadable; build it from the YouTube-8M frame-level records "
                   "with Mr.HiSum's preprocessing, as data/README.md says")


class BadArchive(UserError):
    """The downloaded archive cannot be read or does not hold what it should."""


def verified(path, sha256):
    """True when `path` exists and matches `sha256` (any content passes when the checksum is unknown)."""
    return path.is_file() and (sha256 is None or file_sha256(path) == sha256)


def models_problem(root):
    """What is wrong with a released-models folder ({SumMe,TVSum}/split{k}/ holding one file each), or None."""
    for video_type in DATASETS:
        for k in range(N_SPLITS):
            folder = root / video_type / f"split{k}"
            files = [f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")] \
                if folder.is_dir() else []
            if len(files) != 1:
                return f"{video_type}/split{k} holds {len(files)} files, expected one checkpoint"
    return None


def outputs_present(item, dest):
    """True when everything the item provides is in place (the kept download verified against its checksum)."""
    if item.keep and not verified(dest / item.path, item.sha256):
        return False
    if item.member:
        return (dest / item.path).with_name(item.member).is_file()
    if item.tree:
        return (dest / item.tree).is_dir() and models_problem(dest / item.tree) is None
    return True


def content_range_total(header):
    """The total size in a `Content-Range: bytes a-b/N` or `bytes */N` header, or None."""
    total = (header or "").rpartition("/")[2].strip()
    return int(total) if total.isdigit() else None


def open_url(url, offset, timeout):
    """Open `url`, asking for the bytes from `offset` on when offset > 0; network and HTTP errors as UserError."""
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:
            return e
        raise UserError(f"{url}: HTTP {e.code} {e.reason}{OTHER_WAYS}") from None
    except urllib.error.URLError as e:
        reason = getattr(e.reason, "strerror", None) or e.reason
        if url.startswith("file://"):  # a folder given to --mirror
            raise UserError(f"{url}: cannot read the file ({reason}): put it in the --mirror folder under that "
                            f"name") from None
        raise UserError(f"{url}: cannot connect: {reason}{OTHER_WAYS}") from None
    except (OSError, http.client.HTTPException) as e:
        raise UserError(f"{url}: cannot download: {e or type(e).__name__}{OTHER_WAYS}") from None
    except ValueError as e:
        raise UserError(f"{url}: not a valid URL: {e}") from None


def download(url, part, timeout):
    """Bring `part` to the complete content of `url`, continuing what it already holds when the server allows."""
    offset = part.stat().st_size if part.is_file() else 0
    resp = open_url(url, offset, timeout)
    if isinstance(resp, urllib.error.HTTPError):  # 416 Range Not Satisfiable: nothing after `offset`
        resp.close()
        if content_range_total(resp.headers.get("Content-Range")) == offset:
            return
        part.unlink()
        return download(url, part, timeout)
    with resp:
        resumed = offset and resp.status == 206
        if resumed and not resp.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
            part.unlink()
            raise UserError(f"{url}: the server answered a resume request with the wrong range "
                            f"({resp.headers.get('Content-Range')}); partial file deleted, run again")
        start = offset if resumed else 0
        length = resp.headers.get("Content-Length")
        total = start + int(length) if length and length.isdigit() else None
        received = start
        try:
            f = open(part, "ab" if resumed else "wb")
        except OSError as e:
            raise UserError(f"{part}: cannot write: {e.strerror}") from None
        with f, tqdm(total=total, initial=start, desc=part.name[:-len(".part")], unit="B", unit_scale=True,
                     unit_divisor=1024, disable=None) as bar:
            while True:
                try:
                    chunk = resp.read(CHUNK)
                except (OSError, http.client.HTTPException) as e:
                    raise UserError(f"{url}: transfer interrupted after {received} bytes "
                                    f"({e or type(e).__name__}); run the same command again to resume") from None
                if not chunk:
                    break
                try:
                    f.write(chunk)
                    f.flush()  # a full disk shows here, not at close
                except OSError as e:
                    raise UserError(f"{part}: cannot write: {e.strerror}") from None
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and received != total:
        raise UserError(f"{url}: transfer interrupted after {received} of {total} bytes; "
                        f"run the same command again to resume")


def fetch(item, url, dest, timeout):
    """Download `item` from `url` into its place under `dest`, via `<file>.part`, and check its checksum."""
    target = dest / item.path
    part = target.with_name(target.name + ".part")
    created = [folder for folder in [target.parent, *target.parent.parents] if not folder.exists()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"{target.parent}: cannot create folder: {e.strerror}") from None
    try:
        download(url, part, timeout)
    except UserError:
        for folder in created:  # innermost first: a failed first download leaves no empty folder behind
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    digest = file_sha256(part)
    if item.sha256 is not None and digest != item.sha256:
        part.unlink()
        raise UserError(f"{url}: checksum mismatch for {item.name}: expected sha256 {item.sha256}, got {digest} "
                        f"(download deleted)")
    try:
        os.replace(part, target)
    except OSError as e:
        raise UserError(f"{target}: cannot write: {e.strerror}") from None
    state = "verified" if item.sha256 else "no published checksum"
    print(f"{item.path}: downloaded, sha256 {digest} ({state})")


def load_libarchive(archive):
    """The libarchive-c module; imported here so that a missing C library only matters when unpacking."""
    try:
        import libarchive
    except (ImportError, OSError, AttributeError) as e:
        raise UserError(f"{archive}: cannot unpack: libarchive is not usable ({e}); install it with "
                        f"`pip install libarchive-c` (and the C library, e.g. `apt-get install libarchive13`)") \
            from None
    return libarchive


def member_path(name, archive):
    """An archive member's path as a relative PurePosixPath; absolute paths and '..' are refused."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BadArchive(f"{archive}: bad archive: unsafe member path {name!r}")
    return path


def extract(archive, choose):
    """Write each regular file of `archive` to choose(member path), skipping members for which it returns None.

    Returns the paths written. Formats are recognised by content, so the extension of `archive` does not matter.
    """
    libarchive = load_libarchive(archive)
    written = []
    try:
        with libarchive.file_reader(str(archive)) as entries:
            for entry in entries:
                if not entry.isfile:
                    continue
                target = choose(member_path(entry.pathname, archive))
                if target is None:
                    continue
                with atomic_path(target) as tmp:
                    try:
                        with open(tmp, "wb") as f:
                            for block in entry.get_blocks():
                                f.write(block)
                    except OSError as e:
                        raise UserError(f"{target}: cannot write: {e.strerror}") from None
                written.append(target)
    except libarchive.ArchiveError as e:
        raise BadArchive(f"{archive}: bad archive: {e.msg}") from None
    return written


def unpack_member(item, archive, dest):
    """Unpack the file named item.member (at any depth in the archive) beside the archive."""
    target = archive.with_name(item.member)
    if not extract(archive, lambda member: target if member.name == item.member else None):
        raise BadArchive(f"{archive}: bad archive: no {item.member} inside")
    print(f"{target.relative_to(dest)}: unpacked from {item.name}, sha256 {file_sha256(target)}")


def find_models_root(folder):
    """The shallowest folder under `folder` (itself included) holding both SumMe/ and TVSum/, or None."""
    folders = [folder] + sorted(p for p in folder.rglob("*") if p.is_dir() and "__MACOSX" not in p.parts)
    roots = [p for p in folders if all((p / video_type).is_dir() for video_type in DATASETS)]
    return min(roots, key=lambda p: len(p.parts), default=None)


def unpack_models(item, archive, dest):
    """Unpack the released models so that {tree}/{SumMe,TVSum}/split{k}/<checkpoint> exists.

    The zip may hold the folders at its top or under any top folder (e.g. pretrained_models/); it is unpacked into
    a staging folder beside the target, checked, and then moved into place, replacing an older or incomplete tree.
    """
    tree = dest / item.tree
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{tree.name}.", suffix=".tmp", dir=tree.parent))
    except OSError as e:
        raise UserError(f"{tree.parent}: cannot write: {e.strerror}") from None
    unpacked, replaced = staging / "unpacked", staging / "replaced"
    try:
        extract(archive, lambda member: unpacked.joinpath(*member.parts))
        root = find_models_root(unpacked)
        if root is None:
            raise BadArchive(f"{archive}: bad archive: no {' and '.join(f'{v}/' for v in DATASETS)} folders inside")
        problem = models_problem(root)
        if problem:
            raise BadArchive(f"{archive}: bad archive: {problem}")
        try:
            if tree.exists():
                os.replace(tree, replaced)
            os.replace(root, tree)
        except OSError as e:
            raise UserError(f"{tree}: cannot write: {e.strerror}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for checkpoint in sorted(p for p in tree.glob("*/split*/*") if p.is_file() and not p.name.startswith(".")):
        print(f"{checkpoint.relative_to(dest)}: unpacked from {item.name}, sha256 {file_sha256(checkpoint)}")


def unpack(item, dest):
    """Unpack a downloaded archive; an unreadable archive with no published checksum is deleted (re-fetched next)."""
    archive = dest / item.path
    try:
        if item.member:
            unpack_member(item, archive, dest)
        else:
            unpack_models(item, archive, dest)
    except BadArchive as e:
        if item.sha256 is None:
            archive.unlink()
            raise UserError(f"{e} (download deleted)") from None
        raise
    if not item.keep:
        archive.unlink()


def report_present(item, dest):
    if item.keep:
        check = f"sha256 {item.sha256}, verified" if item.sha256 else "no published checksum"
        print(f"{item.path}: already present ({check}), skipped")
    if item.member:
        print(f"{Path(item.path).with_name(item.member)}: already present, skipped")
    if item.tree:
        print(f"{item.tree}: already present ({len(DATASETS) * N_SPLITS} checkpoints), skipped")


def process(item, dest, mirror, force, timeout):
    """Make `item` present under `dest`: skip it when already there, else download (or reuse) and unpack it."""
    if not force and outputs_present(item, dest):
        report_present(item, dest)
        return
    archive = dest / item.path
    reuse = False
    if archive.is_file() and not force:
        reuse = verified(archive, item.sha256)
        if reuse:
            print(f"{item.path}: already downloaded, unpacking")
        else:
            print(f"{item.path}: present but its sha256 differs from the published one, downloading it again")
    if not reuse:
        fetch(item, f"{mirror}/{item.name}" if mirror else item.url, dest, timeout)
    if item.member or item.tree:
        unpack(item, dest)


def mirror_url(text):
    """--mirror: an http://, https:// or file:// URL, or a folder (taken as its file:// URL)."""
    if text.startswith(("http://", "https://", "file://")):
        return text.rstrip("/")
    if Path(text).is_dir():
        return Path(text).resolve().as_uri()
    raise argparse.ArgumentTypeError(f"--mirror must be a folder or an http://, https:// or file:// URL, got {text!r}")


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def build_parser():
    p = argparse.ArgumentParser(
        prog="python data/download.py",
        description="Download the SumMe/TVSum h5 files, splits and TVSum annotations (from the authors' GitHub "
                    "repository), the 50-split files of Performance over Random (from its authors' repository), "
                    "Mr.HiSum's split file and the released CA-SUM models (from Zenodo record 6562992).")
    p.add_argument("what", nargs="?", choices=("datasets", "models", "mrhisum", "all"), default="all",
                   help="what to fetch: the SumMe/TVSum data, the released models, Mr.HiSum's split file, or all "
                        "(default: all)")
    p.add_argument("--dest", type=Path, default=REPO_ROOT,
                   help="repository root to fill (data/ and inference/ under it; default: this checkout)")
    p.add_argument("--mirror", type=mirror_url, default=None,
                   help="fetch every file from URL/<file name> (or FOLDER/<file name>) instead of the authors' "
                        "locations")
    p.add_argument("--force", action="store_true", help="download and unpack again even what is already present")
    p.add_argument("--timeout", type=positive_float, default=60.0,
                   help="seconds without network progress before giving up (default: 60)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    groups = ("datasets", "mrhisum", "models") if args.what == "all" else (args.what,)
    for group in groups:
        for item in ITEMS[group]:
            process(item, args.dest, args.mirror, args.force, args.timeout)
        if group == "mrhisum" and not (args.dest / "data" / "MrHiSum" / "mr_hisum.h5").is_file():
            print(MRHISUM_H5_NOTE)


if __name__ == "__main__":
    run_cli(main)
