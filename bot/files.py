"""File helpers shared by the stages that keep state on disk: content digests, and writes that a
reader (or a crash) can never catch half done."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Callable

_BLOCK = 1 << 22


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes, read in blocks (model weights run to hundreds of MB)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


# The longest file name most file systems take, in bytes.
NAME_MAX = 255


def staging_path(path: Path, kind: str = "tmp") -> Path:
    """The hidden temporary name a new version of `path` is written under, next to it, so the
    final rename stays on one file system.
    Unique per process and thread: two uploads of the same name at once do not write into one
    file. A name too long to take the additions is stood in for by its digest."""
    tag = f"{os.getpid()}.{threading.get_ident()}.{kind}"
    name = path.name
    if len(f".{name}.{tag}".encode()) > NAME_MAX:
        name = hashlib.sha256(name.encode()).hexdigest()[:32]
    return path.with_name(f".{name}.{tag}")


def atomic_write(path: Path, write: Callable[[Path], None], durable: bool = False,
                 exclusive: bool = False) -> None:
    """Write `path` whole or not at all: `write` fills a temporary file, which is then renamed
    over `path`. Readers see the old file or the new one; a failed write (a full disk, an
    interruption) leaves the old file and no temporary one. `durable` also flushes the new bytes,
    then the rename, to disk, for files a crash must not leave empty or lose. `exclusive`: never
    over a file that is there, even one put there while `write` ran (FileExistsError): the
    temporary file is linked to `path`, which fails where something has that name."""
    tmp = staging_path(path)
    try:
        write(tmp)
        if durable:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: checked, then renamed
                if os.path.lexists(path):
                    raise FileExistsError(path) from None
                os.replace(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if durable:
        _sync_folder(path.parent)


def atomic_write_files(folder: Path, names: list[str], write: Callable[[Path], None], durable: bool = False) -> None:
    """atomic_write for a writer that saves several files into a folder it is given (a library's
    own save): `write` fills a hidden staging folder next to them, under their final names, and
    each is then renamed into `folder`. A failed write leaves none of them and no staging folder."""
    import shutil

    staging = staging_path(folder / names[0])
    moved: list[Path] = []
    try:
        staging.mkdir()
        write(staging)
        if durable:
            for name in names:
                with open(staging / name, "rb") as f:
                    os.fsync(f.fileno())
        for name in names:
            os.replace(staging / name, folder / name)
            moved.append(folder / name)
    except BaseException:
        for path in moved:
            path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if durable:
        _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename) to disk, where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the rename is then as durable as they make it
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, durable: bool = False, exclusive: bool = False) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data), durable, exclusive)


def atomic_write_text(path: Path, text: str, durable: bool = False) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), durable)
