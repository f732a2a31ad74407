"""A cheap fingerprint of the corpus folder, to notice edits made on disk while the bot runs.

A stat scan (names, sizes, modification and change times, inodes) takes microseconds per file, so the bot can check it
before every question and re-sync only when something changed, instead of hashing every file.
"""

from __future__ import annotations

import os
from pathlib import Path

Signature = tuple[tuple[str, int, int, int, int], ...]


def ignored_path(root: Path, ignore: Path | None) -> str | None:
    """`ignore` spelled as a walk from root spells its folders (root joined with the relative path),
    so that the walk compares strings instead of resolving every folder; None if outside root."""
    if ignore is None:
        return None
    resolved_root, target = Path(root).resolve(), Path(ignore).resolve()
    if target == resolved_root or not target.is_relative_to(resolved_root):
        return None
    return os.path.join(str(Path(root)), *target.relative_to(resolved_root).parts)


def corpus_signature(root: Path, ignore: Path | None = None) -> Signature:
    """(relative path, size, mtime and ctime in ns, inode) of every visible file under root, sorted;
    () if missing. The change time and inode catch a file replaced with its old size and mtime kept
    (`cp -p`, `rsync -t`, a tar restore). `ignore`: a folder inside root left out, as the scan
    leaves it out (an index kept there)."""
    skip = ignored_path(root, ignore)
    entries: list[tuple[str, int, int, int, int]] = []
    stack = [Path(root)]
    while stack:
        folder = stack.pop()
        try:
            listing = list(os.scandir(folder))
        except OSError:
            continue
        for entry in listing:
            if entry.name.startswith("."):
                continue  # hidden files, including uploads still being written
            try:
                if entry.is_dir(follow_symlinks=False):  # as the scan: a link to a folder is not walked
                    if entry.path != skip:
                        stack.append(Path(entry.path))
                    continue
                info = entry.stat()
            except OSError:
                continue
            entries.append((os.path.relpath(entry.path, root), info.st_size, info.st_mtime_ns, info.st_ctime_ns,
                            info.st_ino))
    return tuple(sorted(entries))
