"""Mutations of valid input files, for tests/test_fuzz.py.

Each mutation is a pair (name, apply): `apply(path)` turns the valid file at `path` (a copy) into a bad, or harmlessly
different, one in place. The lists cover what can go wrong with each kind of input: truncation at many offsets,
foreign bytes, wrong structure, wrong types and shapes, NaN/Inf, empty and inconsistent values.
"""
import json
import random
import re

import h5py
import numpy as np

TRUNCATION_POINTS = 14  # truncation offsets per file (plus 0 and len - 1)


def truncations(size, seed):
    """Sorted offsets 0 <= n < size: the edges, and random ones, at which a file of `size` bytes is cut."""
    rng = random.Random(seed)
    offsets = {0, 1, size // 2, size - 1} | {rng.randrange(size) for _ in range(TRUNCATION_POINTS - 4)}
    return sorted(o for o in offsets if 0 <= o < size)


def truncate_to(offset):
    def apply(path):
        data = path.read_bytes()
        path.write_bytes(data[:offset])
    return apply


def write_bytes(data):
    def apply(path):
        path.write_bytes(data)
    return apply


def write_text(text):
    def apply(path):
        path.write_text(text)
    return apply


def replace_with_folder(path):
    path.unlink()
    path.mkdir()


def remove(path):
    path.unlink()


def file_level(path, seed):
    """Mutations of any file: truncations at many offsets, empty, foreign bytes, a folder in its place, absent."""
    size = path.stat().st_size
    out = [(f"truncated at {n} of {size} bytes", truncate_to(n)) for n in truncations(size, seed)]
    rng = random.Random(seed)
    out += [("empty file", write_bytes(b"")),
            ("random bytes", write_bytes(bytes(rng.randrange(256) for _ in range(4096)))),
            ("text instead", write_text("this is not the file you are looking for\n")),
            ("NUL bytes", write_bytes(b"\0" * 512)),
            ("a folder in its place", replace_with_folder),
            ("missing", remove)]
    return out


# ---------------------------------------------------------------- dataset h5 (one video's group is mutated) -----

def h5_edit(video, change):
    """A mutation that calls change(group) on h5 group `video`, opened read-write."""
    def apply(path):
        with h5py.File(path, "r+") as h5:
            change(h5[video])
    return apply


def set_field(field, value):
    def change(group):
        if field in group:
            del group[field]
        if value is not None:
            group[field] = value
    return change


def map_field(field, fn):
    def change(group):
        old = group[field][()]
        del group[field]
        group[field] = fn(old)
    return change


def with_nan(a, value=np.nan):
    a = np.array(a, dtype=np.float64)
    a.reshape(-1)[0] = value
    return a


def compound(a):
    a = np.asarray(a).reshape(-1)
    out = np.zeros(len(a), dtype=[("x", "f8"), ("y", "i4")])
    out["x"] = a
    return out


GENERIC = [  # (name, function of the valid array), tried on every field
    ("scalar", lambda a: np.int64(7)),
    ("empty", lambda a: np.zeros((0,) + np.shape(a)[1:], dtype=np.asarray(a).dtype)),
    ("flattened", lambda a: np.asarray(a).reshape(-1)),
    ("extra axis", lambda a: np.asarray(a)[None]),
    ("transposed", lambda a: np.asarray(a).T if np.ndim(a) == 2 else np.asarray(a).reshape(-1, 1)),
    ("one fewer row", lambda a: np.asarray(a)[:-1] if np.ndim(a) else np.asarray(a)),
    ("one more row", lambda a: np.concatenate([a, np.asarray(a)[-1:]]) if np.ndim(a) else np.asarray(a)),
    ("strings", lambda a: np.full(np.shape(a), b"abc")),
    ("one string", lambda a: "not a number"),
    ("booleans", lambda a: np.asarray(a) != 0),
    ("complex", lambda a: np.asarray(a) + 1j),
    ("float16", lambda a: np.asarray(a).astype(np.float16)),
    ("uint8 (wraps)", lambda a: np.asarray(a).astype(np.uint8)),
    ("compound dtype", compound),
    ("NaN", with_nan),
    ("+Inf", lambda a: with_nan(a, np.inf)),
    ("-Inf", lambda a: with_nan(a, -np.inf)),
    ("all NaN", lambda a: np.full(np.shape(a), np.nan)),
    ("huge float 1e30", lambda a: np.full(np.shape(a), 1e30)),
    ("huge int 2**62", lambda a: np.full(np.shape(a), 2 ** 62, dtype=np.int64)),
    ("negative", lambda a: -np.asarray(a) - 1),
    ("zeros", lambda a: np.zeros(np.shape(a), dtype=np.asarray(a).dtype)),
]

FIELDS = ("features", "picks", "n_frames", "n_steps", "change_points", "user_summary", "gtscore", "n_frame_per_seg")


def semantic(n_frames, n_steps):
    """Field values that are well-formed but wrong for a video of `n_frames` frames and `n_steps` picks."""
    picks = np.arange(0, n_frames, n_frames // n_steps)
    half = n_frames // 2
    return [
        ("user_summary", "one frame short", lambda a: a[:, :-1]),
        ("user_summary", "15 frames long", lambda a: np.concatenate([a, a[:, :15]], axis=1)),
        ("user_summary", "one column", lambda a: a[:, :1]),
        ("user_summary", "no users", lambda a: a[:0]),
        ("user_summary", "non-binary values", lambda a: a * 2 - 0.5),
        ("user_summary", "all zeros", lambda a: np.zeros_like(a)),
        ("user_summary", "all ones", lambda a: np.ones_like(a)),
        ("change_points", "last shot ends at n_frames", lambda a: np.array([[0, half - 1], [half, n_frames]])),
        ("change_points", "last shot ends far out", lambda a: np.array([[0, half - 1], [half, 10 * n_frames]])),
        ("change_points", "shot ends at 1e15", lambda a: np.array([[0, half - 1], [half, 10 ** 15]])),
        ("change_points", "shot starts after the video",
         lambda a: np.array([[0, n_frames - 1], [n_frames + 5, n_frames + 9]])),
        ("change_points", "negative start", lambda a: np.array([[-5, half - 1], [half, n_frames - 1]])),
        ("change_points", "overlapping shots", lambda a: np.array([[0, half + 29], [half - 30, n_frames - 1]])),
        ("change_points", "shot ends before it starts", lambda a: np.array([[0, half - 1], [n_frames - 1, half]])),
        ("change_points", "shots out of order", lambda a: a[::-1].copy()),
        ("change_points", "shots with gaps", lambda a: a + np.array([0, -10])),
        ("change_points", "one shot", lambda a: np.array([[0, n_frames - 1]])),
        ("change_points", "one-frame shots", lambda a: np.stack([np.arange(n_frames)] * 2, axis=1)),
        ("change_points", "float boundaries", lambda a: a.astype(np.float64) + 0.5),
        ("change_points", "three columns", lambda a: np.concatenate([a, a[:, :1]], axis=1)),
        ("picks", "not increasing", lambda a: a[::-1].copy()),
        ("picks", "shuffled", lambda a: np.random.default_rng(0).permutation(a)),
        ("picks", "repeated", lambda a: np.zeros_like(a)),
        ("picks", "beyond n_frames", lambda a: a + n_frames),
        ("picks", "last pick is n_frames", lambda a: np.append(a[1:], n_frames)),
        ("picks", "float", lambda a: a.astype(np.float64)),
        ("n_frames", "0", lambda a: np.int64(0)),
        ("n_frames", "-1", lambda a: np.int64(-1)),
        ("n_frames", "smaller than the picks", lambda a: np.int64(picks[n_steps // 2])),
        ("n_frames", "1e15", lambda a: np.int64(10 ** 15)),
        ("n_frames", "a float", lambda a: np.float64(n_frames) + 0.5),
        ("n_frames", "NaN", lambda a: np.float64(np.nan)),
        ("n_frames", "Inf", lambda a: np.float64(np.inf)),
        ("n_frames", "two values", lambda a: np.array([n_frames, n_frames])),
        ("n_steps", "wrong count", lambda a: np.int64(n_steps + 1)),
        ("n_steps", "empty array", lambda a: np.zeros(0, dtype=np.int64)),
        ("n_steps", "string", lambda a: "twenty"),
        ("n_steps", "NaN", lambda a: np.float64(np.nan)),
        ("features", "one row", lambda a: a[:1]),
        ("features", "fewer rows than picks", lambda a: a[:-3]),
        ("features", "constant rows", lambda a: np.ones_like(a)),
        ("features", "float32 max", lambda a: np.full(a.shape, np.finfo(np.float32).max, dtype=np.float32)),
        ("features", "1e20", lambda a: np.full(a.shape, 1e20, dtype=np.float32)),
        ("features", "float64", lambda a: a.astype(np.float64)),
        ("features", "int", lambda a: (a * 10).astype(np.int32)),
        ("features", "too large for float32", lambda a: np.full(a.shape, 1e300)),
    ]


def h5_mutations(path, video, n_frames, n_steps, seed=0):
    """Every mutation of the dataset h5 at `path` that touches video `video` (or the whole file)."""
    out = [(f"h5 {name}", apply) for name, apply in file_level(path, seed)]
    for field in FIELDS:
        out.append((f"{video}/{field} dropped", h5_edit(video, set_field(field, None))))
        out.append((f"{video}/{field} as a group",
                    h5_edit(video, lambda g, f=field: (set_field(f, None)(g), g.create_group(f)))))
        out += [(f"{video}/{field} {name}", h5_edit(video, map_field(field, fn))) for name, fn in GENERIC]
    out += [(f"{video}/{field} {name}", h5_edit(video, map_field(field, fn)))
            for field, name, fn in semantic(n_frames, n_steps)]

    def whole(change):
        def apply(p):
            with h5py.File(p, "r+") as h5:
                change(h5)
        return apply

    def as_dataset(h5):
        del h5[video]
        h5[video] = np.zeros(3)

    def dangling(h5):
        del h5[video]
        h5[video] = h5py.SoftLink("/nowhere")

    def linked(h5):
        del h5[video]
        h5[video] = h5py.SoftLink(f"/{next(k for k in h5 if k != video)}")

    def external(h5):
        del h5[video]
        h5[video] = h5py.ExternalLink("missing_file.h5", "/video")

    def extra(h5):
        h5["stray"] = np.arange(3)
        h5.create_group("video_99").create_dataset("features", data=np.zeros((2, 2)))

    out += [(f"{video} deleted", whole(lambda h5: h5.__delitem__(video))),
            (f"{video} is a dataset", whole(as_dataset)),
            (f"{video} is a dangling link", whole(dangling)),
            (f"{video} links to another video", whole(linked)),
            (f"{video} is an external link to a missing file", whole(external)),
            ("extra datasets and groups", whole(extra)),
            (f"{video} emptied", whole(lambda h5: [h5[video].__delitem__(k) for k in list(h5[video])]))]
    return out


# ---------------------------------------------------------------- JSON files ---------------------------------------

DEEP = "[" * 100000 + "]" * 100000


def json_text_mutations(path, seed):
    """Mutations of any JSON file: file-level ones, plus broken JSON syntax and foreign encodings."""
    text = path.read_text()
    out = [(f"json {name}", apply) for name, apply in file_level(path, seed)]
    out += [("null", write_text("null")), ("a number", write_text("3")), ("a string", write_text('"x"')),
            ("empty list", write_text("[]")), ("empty object", write_text("{}")),
            ("deeply nested", write_text(DEEP)),
            ("UTF-8 BOM", write_bytes(b"\xef\xbb\xbf" + text.encode())),
            ("UTF-16", write_bytes(text.encode("utf-16"))),
            ("Latin-1 bytes", write_bytes(text.encode()[:-1] + b"\xe9" + text.encode()[-1:])),
            ("trailing garbage", write_text(text + "}{")),
            ("two documents", write_text(text + text))]
    return out


def json_value(transform):
    """A mutation that rewrites the JSON document d of the file as transform(d) (returning text or an object)."""
    def apply(path):
        value = transform(json.loads(path.read_text()))
        path.write_text(value if isinstance(value, str) else json.dumps(value))
    return apply


def splits_mutations(path, keys, seed=0):
    """Mutations of a splits JSON whose splits use the videos `keys`."""
    out = [(f"splits {name}", apply) for name, apply in json_text_mutations(path, seed)]

    def first(change):
        def transform(splits):
            change(splits[0])
            return splits
        return json_value(transform)

    def set_keys(part, value):
        return first(lambda s: s.__setitem__(part, value))

    for part in ("train_keys", "test_keys"):
        out += [(f"{part} missing", first(lambda s, p=part: s.pop(p))),
                (f"{part} empty", set_keys(part, [])),
                (f"{part} a string", set_keys(part, "video_1")),
                (f"{part} numbers", set_keys(part, [1, 2])),
                (f"{part} null", set_keys(part, None)),
                (f"{part} nested lists", set_keys(part, [[k] for k in keys[:2]])),
                (f"{part} unknown video", set_keys(part, keys[:2] + ["video_99"])),
                (f"{part} empty name", set_keys(part, ["", keys[0]])),
                (f"{part} root group", set_keys(part, ["/", keys[0]])),
                (f"{part} dot", set_keys(part, [".", keys[0]])),
                (f"{part} a dataset path", set_keys(part, [f"{keys[0]}/features", keys[1]])),
                (f"{part} trailing slash", set_keys(part, [f"{keys[0]}/", keys[1]])),
                (f"{part} NUL in a name", set_keys(part, [keys[0] + "\0", keys[1]])),
                (f"{part} non-ASCII name", set_keys(part, ["vidéo_1", keys[1]])),
                (f"{part} duplicated", set_keys(part, [keys[0]] * 3)),
                (f"{part} very long name", set_keys(part, ["v" * 100000, keys[1]]))]
    out += [("splits an object", json_value(lambda s: {"0": s[0]})),
            ("split is a list", json_value(lambda s: [list(s[0].values())] + s[1:])),
            ("split is null", json_value(lambda s: [None] + s[1:])),
            ("test video also trained on", first(lambda s: s["train_keys"].append(s["test_keys"][0]))),
            ("extra fields", first(lambda s: s.update(val_keys=["x"], note=None))),
            ("NaN literal", json_value(lambda s: json.dumps(s)[:-1] + ", NaN]")),
            ("1000 splits", json_value(lambda s: s * 1000))]
    return out


def score_mutations(path, n_scores, seed=0):
    """Mutations of a {video: [score, ...]} JSON whose videos have `n_scores` scores."""
    out = [(f"scores {name}", apply) for name, apply in json_text_mutations(path, seed)]

    def each(fn):
        return json_value(lambda d: {k: fn(v) for k, v in d.items()})

    out += [("video with no scores", each(lambda v: [])),
            ("scores as a string", each(lambda v: "0.5")),
            ("scores as an object", each(lambda v: {"0": v})),
            ("nested lists", each(lambda v: [[x] for x in v])),
            ("booleans", each(lambda v: [True] * len(v))),
            ("a null", each(lambda v: [None] + v[1:])),
            ("a string score", each(lambda v: ["0.5"] + v[1:])),
            ("NaN", each(lambda v: [float("nan")] + v[1:])),
            ("Infinity", each(lambda v: [float("inf")] + v[1:])),
            ("-Infinity", each(lambda v: [float("-inf")] + v[1:])),
            ("1e400 (overflows float64)", json_value(lambda d: re.sub(r"\[[^,\]]+", "[1e400", json.dumps(d), count=1))),
            ("int of 400 digits", each(lambda v: [10 ** 400] + v[1:])),
            ("1e300 (overflows float32)", each(lambda v: [1e300] + v[1:])),
            ("3e38 everywhere (float32 means overflow)", each(lambda v: [3e38] * len(v))),
            ("negative scores", each(lambda v: [-x for x in v])),
            ("scores above 1", each(lambda v: [x * 1e6 for x in v])),
            ("all equal scores", each(lambda v: [0.5] * len(v))),
            ("integer scores", each(lambda v: [int(x > 0.5) for x in v])),
            ("one score short", each(lambda v: v[:-1])),
            ("one score more", each(lambda v: v + v[:1])),
            ("one score", each(lambda v: v[:1])),
            ("video not in the dataset", json_value(lambda d: {"video_99": list(d.values())[0]})),
            ("extra video not in the dataset", json_value(lambda d: {**d, "video_99": list(d.values())[0]})),
            ("empty video name", json_value(lambda d: {"": list(d.values())[0]})),
            ("a list of lists", json_value(lambda d: list(d.values()))),
            ("duplicate keys", json_value(lambda d: "{" + ", ".join(
                f"{json.dumps(k)}: {json.dumps(v)}, {json.dumps(k)}: {json.dumps(v[:1])}"
                for k, v in d.items()) + "}"))]
    return out


# ---------------------------------------------------------------- text tables --------------------------------------

def scalars_mutations(path, seed=0):
    """Mutations of a scalars.csv (wall_time,step,loss_epoch)."""
    lines = path.read_text().splitlines()
    header, rows = lines[0], lines[1:]

    def rows_as(fn):
        return write_text("\n".join([header] + fn([r.split(",") for r in rows])) + "\n")

    def loss(value, at=0):
        return rows_as(lambda rs: [",".join(r[:2] + [value] if i == at else r) for i, r in enumerate(rs)])

    out = [(f"csv {name}", apply) for name, apply in file_level(path, seed)]
    out += [("header only", write_text(header + "\n")), ("no header", write_text("\n".join(rows) + "\n")),
            ("no loss column", write_text("\n".join(row.rsplit(",", 1)[0] for row in lines) + "\n")),
            ("columns renamed", write_text("a,b,c\n" + "\n".join(rows) + "\n")),
            ("loss column first", write_text("\n".join(",".join(row.split(",")[::-1]) for row in lines) + "\n")),
            ("loss NaN", loss("nan")), ("loss inf", loss("inf")), ("loss -inf", loss("-inf")),
            ("loss NaN everywhere", rows_as(lambda rs: [",".join(r[:2] + ["nan"]) for r in rs])),
            ("loss text", loss("abc")), ("loss empty", loss("")), ("loss 1e400", loss("1e400")),
            ("loss negative", loss("-1.0")),
            ("a short row", rows_as(lambda rs: [",".join(r[:2]) if i == 0 else ",".join(r) for i, r in enumerate(rs)])),
            ("a long row", rows_as(lambda rs: [",".join(r + ["9"]) for r in rs])),
            ("steps out of order", rows_as(lambda rs: [",".join(r) for r in rs[::-1]])),
            ("a step repeated", rows_as(lambda rs: [",".join(r) for r in rs[:1] + rs])),
            ("a step missing", rows_as(lambda rs: [",".join(r) for r in rs[:1] + rs[2:]])),
            ("steps as floats", rows_as(lambda rs: [",".join([r[0], r[1] + ".0", r[2]]) for r in rs])),
            ("step text", rows_as(lambda rs: [",".join([r[0], "x", r[2]]) for r in rs])),
            ("CRLF line ends", write_bytes(("\r\n".join(lines) + "\r\n").encode())),
            ("blank lines", write_text("\n\n".join(lines) + "\n\n")),
            ("UTF-8 BOM", write_bytes(b"\xef\xbb\xbf" + path.read_bytes())),
            ("quoted fields", write_text("\n".join(",".join(f'"{c}"' for c in r.split(",")) for r in lines) + "\n")),
            ("unterminated quote", write_text(lines[0] + '\n"1,0,0.5\n')),
            ("NUL inside", write_bytes(path.read_bytes().replace(b",", b"\0,", 1))),
            ("Latin-1 byte", write_bytes(path.read_bytes() + b"\xe9\n")),
            ("one row", write_text("\n".join(lines[:2]) + "\n")),
            ("a million-character field", write_text(header + "\n" + "1," * 1 + "0," + "1" * 1000000 + "\n"))]
    return out


def f_scores_mutations(path, seed=0):
    """Mutations of an f_scores.txt (one F-score per line, epoch -1 first)."""
    lines = path.read_text().splitlines()
    out = [(f"f_scores {name}", apply) for name, apply in file_level(path, seed)]

    def line(value, at=1):
        return write_text("".join((value if i == at else row) + "\n" for i, row in enumerate(lines)))

    out += [("a NaN", line("nan")), ("an inf", line("inf")), ("a -inf", line("-inf")), ("text", line("abc")),
            ("empty line", line("")), ("1e400", line("1e400")), ("negative", line("-5.0")),
            ("above 100", line("1000.0")),
            ("two values on a line", line("1.0 2.0")), ("one value", write_text(lines[0] + "\n")),
            ("one value, no newline", write_text(lines[0])), ("fewer values", write_text("\n".join(lines[:2]) + "\n")),
            ("a JSON list", write_text(json.dumps([float(v) for v in lines]))),
            ("a JSON list of lists", write_text(json.dumps([[float(v)] for v in lines]))),
            ("a JSON object", write_text('{"a": 1}')), ("a JSON NaN list", write_text("[NaN, 1.0]")),
            ("deeply nested JSON", write_text(DEEP)),
            ("CRLF", write_bytes(("\r\n".join(lines) + "\r\n").encode())),
            ("Latin-1 byte", write_bytes(path.read_bytes() + b"\xe9\n")),
            ("blank lines", write_text("\n\n".join(lines) + "\n"))]
    return out


def annotation_mutations(path, seed=0):
    """Mutations of a TVSum ydata-anno.tsv (id, category, comma-separated scores per row)."""
    lines = path.read_text().splitlines()

    def row(fn, at=0):
        return write_text("".join((fn(row.split("\t")) if i == at else row) + "\n" for i, row in enumerate(lines)))

    out = [(f"anno {name}", apply) for name, apply in file_level(path, seed)]
    out += [("two columns", row(lambda r: "\t".join(r[:2]))), ("one column", row(lambda r: r[0])),
            ("four columns", row(lambda r: "\t".join(r + ["x"]))),
            ("a text score", row(lambda r: "\t".join(r[:2] + ["abc," + r[2]]))),
            ("an empty score", row(lambda r: "\t".join(r[:2] + ["," + r[2]]))),
            ("no scores", row(lambda r: "\t".join(r[:2] + [""]))),
            ("a NaN score", row(lambda r: "\t".join(r[:2] + ["nan," + r[2].split(",", 1)[1]]))),
            ("an inf score", row(lambda r: "\t".join(r[:2] + ["inf," + r[2].split(",", 1)[1]]))),
            ("all scores zero", row(lambda r: "\t".join(r[:2] + [",".join(["0"] * len(r[2].split(",")))]))),
            ("all scores equal", row(lambda r: "\t".join(r[:2] + [",".join(["3"] * len(r[2].split(",")))]))),
            ("negative scores", row(lambda r: "\t".join(r[:2] + [",".join("-" + v for v in r[2].split(","))]))),
            ("one score fewer", row(lambda r: "\t".join(r[:2] + [r[2].rsplit(",", 1)[0]]))),
            ("15 scores more", row(lambda r: "\t".join(r[:2] + [r[2] + ",1" * 15]))),
            ("a row of another length", row(lambda r: "\t".join(r[:2] + [r[2] + ",1"]), at=1)),
            ("a million-character row", row(lambda r: "\t".join(r[:2] + [",".join(["1"] * 600000)]))),
            ("one video only", write_text(lines[0] + "\n")),
            ("rows shuffled", write_text("\n".join(random.Random(seed).sample(lines, len(lines))) + "\n")),
            ("quoted", row(lambda r: '"' + "\t".join(r) + '"')),
            ("unterminated quote", row(lambda r: '"' + "\t".join(r))),
            ("CRLF", write_bytes(("\r\n".join(lines) + "\r\n").encode())),
            ("UTF-8 BOM", write_bytes(b"\xef\xbb\xbf" + path.read_bytes())),
            ("Latin-1 byte", write_bytes(path.read_bytes() + b"\xe9\n")),
            ("RAR magic then garbage", write_bytes(b"Rar!\x1a\x07\x01\x00" + bytes(range(256)) * 4)),
            ("blank lines", write_text("\n\n".join(lines) + "\n"))]
    return out


# ---------------------------------------------------------------- checkpoints --------------------------------------

def checkpoint_mutations(path, seed=0):
    """Mutations of a CA-SUM state_dict file (torch.save format)."""
    import torch

    def rewrite(fn):
        def apply(p):
            obj = fn(torch.load(p, weights_only=True))
            torch.save(obj, p)
        return apply

    def tensors(fn):
        return rewrite(lambda s: {k: fn(k, v) for k, v in s.items()})

    def one(key, fn):
        return tensors(lambda k, v: fn(v) if k == key else v)

    def legacy(p):
        torch.save(torch.load(p, weights_only=True), p, _use_new_zipfile_serialization=False)
        data = p.read_bytes()
        p.write_bytes(data[:len(data) // 2])

    def pickled(obj):
        def apply(p):
            import pickle
            p.write_bytes(pickle.dumps(obj))
        return apply

    def zip_member_dropped(p):
        import zipfile
        with zipfile.ZipFile(p) as z:
            members = {n: z.read(n) for n in z.namelist()}
        with zipfile.ZipFile(p, "w") as z:
            for n, data in members.items():
                if "/data/" not in n or not n.endswith("/0"):
                    z.writestr(n, data)

    out = [(f"checkpoint {name}", apply) for name, apply in file_level(path, seed)]
    out += [("a list", rewrite(lambda s: list(s.values()))), ("a tensor", rewrite(lambda s: torch.zeros(3))),
            ("an int", rewrite(lambda s: 3)), ("empty dict", rewrite(lambda s: {})),
            ("wrapped in model", rewrite(lambda s: {"model": s})),
            ("wrapped in state_dict", rewrite(lambda s: {"state_dict": s})),
            ("a non-tensor value", rewrite(lambda s: {**s, "linear_2.bias": 0.5})),
            ("a key missing", rewrite(lambda s: {k: v for k, v in s.items() if k != "linear_1.bias"})),
            ("an extra key", rewrite(lambda s: {**s, "extra": torch.zeros(1)})),
            ("keys prefixed module.", rewrite(lambda s: {"module." + k: v for k, v in s.items()})),
            ("a transposed weight", one("attention.out.weight", lambda v: v.t())),
            ("a wrong shape", one("attention.out.weight", lambda v: v[:, :-2])),
            ("another width", tensors(lambda k, v: torch.zeros([2 * n if n > 2 else n for n in v.shape]))),
            ("a 0-d tensor", one("linear_2.bias", lambda v: v.reshape(()))),
            ("a NaN weight", one("linear_1.weight", lambda v: v.index_fill(0, torch.tensor([0]), float("nan")))),
            ("an Inf weight", one("linear_2.weight", lambda v: v.index_fill(0, torch.tensor([0]), float("inf")))),
            ("all weights zero", tensors(lambda k, v: torch.zeros_like(v))),
            ("huge weights", tensors(lambda k, v: v * 1e30)),
            ("float64 weights", tensors(lambda k, v: v.double())),
            ("float16 weights", tensors(lambda k, v: v.half())),
            ("integer weights", tensors(lambda k, v: (v * 10).int())),
            ("boolean weights", tensors(lambda k, v: v > 0)),
            ("complex weights", tensors(lambda k, v: v.to(torch.complex64))),
            ("sparse weight", one("linear_1.weight", lambda v: v.to_sparse())),
            ("a non-contiguous weight", one("linear_1.weight", lambda v: v.t().contiguous().t())),
            ("legacy format, truncated", legacy),
            ("a zip without its tensor data", zip_member_dropped),
            ("a pickled function", pickled(print)),
            ("a pickled dict of lists", pickled({"linear_1.weight": [1, 2]}))]
    return out


def events_mutations(path, seed=0):
    """Mutations of a TensorBoard event file holding loss_epoch scalars."""
    out = [(f"events {name}", apply) for name, apply in file_level(path, seed)]
    rng = random.Random(seed)

    def flip(p):
        data = bytearray(p.read_bytes())
        for _ in range(8):
            data[rng.randrange(len(data))] ^= 0xFF
        p.write_bytes(bytes(data))

    def appended(p):
        p.write_bytes(p.read_bytes() + bytes(rng.randrange(256) for _ in range(100)))

    out += [("bytes flipped", flip), ("garbage appended", appended)]
    return out


def resume_mutations(path, seed=0):
    """Mutations of a training run's resume.pt (a dict: epoch, args, model, optimizer, best_loss, best_epoch, rng)."""
    import torch

    def rewrite(fn):
        def apply(p):
            state = torch.load(p, weights_only=True)
            torch.save(fn(state), p)
        return apply

    def set_key(key, value):
        return rewrite(lambda s: {**s, key: value})

    def model(fn):
        return rewrite(lambda s: {**s, "model": fn(dict(s["model"]))})

    out = [(f"resume {name}", apply) for name, apply in file_level(path, seed)]
    out += [("a list", rewrite(lambda s: list(s))), ("a plain state_dict", rewrite(lambda s: s["model"])),
            ("an int", rewrite(lambda s: 3))]
    out += [(f"{key} missing", rewrite(lambda s, k=key: {n: v for n, v in s.items() if n != k}))
            for key in ("epoch", "args", "model", "optimizer", "best_loss", "best_epoch", "rng")]
    out += [("epoch a string", set_key("epoch", "zero")), ("epoch negative", set_key("epoch", -5)),
            ("epoch beyond the run", set_key("epoch", 10 ** 6)), ("args a list", set_key("args", [1])),
            ("args of another run", rewrite(lambda s: {**s, "args": {**s["args"], "lr": 1.0}})),
            ("model key missing", model(lambda m: {k: v for k, v in m.items() if k != "linear_1.bias"})),
            ("model wrong shape", model(lambda m: {**m, "linear_1.bias": torch.zeros(3)})),
            ("model NaN weights", model(lambda m: {k: torch.full_like(v, float("nan")) for k, v in m.items()})),
            ("optimizer empty", set_key("optimizer", {})),
            ("optimizer garbage", set_key("optimizer", {"state": 1, "param_groups": "x"})),
            ("optimizer moments of another shape", rewrite(lambda s: {**s, "optimizer": {
                **s["optimizer"], "state": {k: {n: t[..., :1] if t.ndim else t for n, t in v.items()}
                                            for k, v in s["optimizer"]["state"].items()}}})),
            ("optimizer moments NaN", rewrite(lambda s: {**s, "optimizer": {
                **s["optimizer"], "state": {k: {n: torch.full_like(t, float("nan")) if t.ndim else t
                                                for n, t in v.items()} for k, v in s["optimizer"]["state"].items()}}})),
            ("best_loss a string", set_key("best_loss", "low")),
            ("rng empty", set_key("rng", {})),
            ("rng torch state garbage", rewrite(lambda s: {**s, "rng": {**s["rng"], "torch": torch.zeros(3)}})),
            ("rng numpy state garbage", rewrite(lambda s: {**s, "rng": {**s["rng"], "numpy": (1, 2)}})),
            ("rng random state garbage", rewrite(lambda s: {**s, "rng": {**s["rng"], "random": (3, (1, 2), None)}}))]
    return out
