"""Which videos a command was given: files as named, folders as the videos directly inside them (by extension,
sorted), and a folder name of its own for each video's outputs."""
from pathlib import Path

from common.errors import UserError

VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts",
                              ".m2ts", ".wmv", ".flv", ".3gp", ".ogv", ".h264", ".264", ".hevc", ".y4m"})


def is_video_name(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS and not path.name.startswith(".")


def find_videos(paths: list[Path]) -> list[Path]:
    """The videos of `paths`, in order, each once: a file is taken whatever its extension (FFmpeg decides), a folder
    gives the files directly inside it with a video extension (VIDEO_EXTENSIONS), sorted by name.

    Args:
        paths: files and folders from the command line.
    Returns:
        The video files; a missing path, or a folder without videos, is a UserError naming it.
    """
    videos, seen = [], set()
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and is_video_name(p))
            if not found:
                raise UserError(f"{path}: no video files in this folder (extensions: "
                                f"{' '.join(sorted(VIDEO_EXTENSIONS))})")
        elif path.exists():
            found = [path]
        else:
            raise UserError(f"{path}: video file not found")
        for video in found:
            if video.resolve() not in seen:
                seen.add(video.resolve())
                videos.append(video)
    return videos


def output_folders(videos: list[Path], out: Path | None, batch: bool) -> list[Path]:
    """Each video's output folder: OUT itself for a single video; in a batch OUT/{stem}/; without OUT
    {stem}_summary/ next to the video. Two videos of the same stem get {stem}-2, {stem}-3, ... in the order given
    (names compared without case, for case-insensitive file systems)."""
    if out is not None and not batch:
        return [out]
    folders, taken = [], set()
    for video in videos:
        n = 1
        while True:
            name = video.stem if n == 1 else f"{video.stem}-{n}"
            folder = out / name if out is not None else video.parent / f"{name}_summary"
            if str(folder.resolve()).lower() not in taken:
                break
            n += 1
        taken.add(str(folder.resolve()).lower())
        folders.append(folder)
    return folders
