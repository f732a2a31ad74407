"""Load a folder of documents. Files that cannot be used are skipped and reported by name;
nothing in the folder is ever modified."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from bot.errors import CorpusError
from bot.ingest.corpus_watch import ignored_path
from bot.ingest.parsing import ParsedText, parse_html, parse_markdown, parse_pdf, parse_plain
from bot.ingest.word import parse_docx
from bot.types import Document

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md",
                      ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}
# The main suffix of each kind, for messages that say what can be added.
ALLOWED_TYPES = ".txt, .md, .html, .pdf or .docx"


def decode_text(raw: bytes) -> str:
    """Decode text the way a careful editor would: BOMs first, then UTF-8, then cp1252/latin-1.

    Raises ValueError for content that is binary rather than text.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    sample = raw[:8192]
    # UTF-16 without a BOM: every other byte is NUL in ASCII-heavy text.
    if sample and sample.count(b"\x00") > len(sample) // 3:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if max(even, odd) > 0.8 * (len(sample) // 2) and min(even, odd) < 0.1 * (len(sample) // 2):
            return raw.decode("utf-16-le" if odd > even else "utf-16-be", errors="replace")
    if b"\x00" in sample:
        raise ValueError("binary content (NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="strict") if _cp1252_ok(raw) else raw.decode("latin-1")
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(8, len(text[:8192]) // 50):
        raise ValueError("binary content (control characters)")
    return text


def _cp1252_ok(raw: bytes) -> bool:
    try:
        raw.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def parse_file(kind: str, raw: bytes) -> ParsedText:
    if kind == "pdf":
        return parse_pdf(raw)
    if kind == "docx":
        return parse_docx(raw)
    text = decode_text(raw).replace("\r\n", "\n").replace("\r", "\n")
    if kind == "md":
        return parse_markdown(text)
    if kind == "html":
        return parse_html(text)
    return parse_plain(text)


def load_document(path: Path, doc_id: str, raw: bytes | None = None) -> Document:
    """Parse one file into a Document (raises ValueError/OSError with a reason on failure)."""
    kind = SUPPORTED_SUFFIXES[path.suffix.lower()]
    raw = path.read_bytes() if raw is None else raw
    parsed = parse_file(kind, raw)
    if not parsed.text.strip():
        raise ValueError("no text found")
    title = parsed.title or path.stem.replace("_", " ")
    return Document(
        doc_id=doc_id,
        text=parsed.text,
        content_hash=hashlib.sha256(raw).hexdigest(),
        kind=kind,
        line_starts=tuple(parsed.line_starts),
        source_lines=tuple(parsed.source_lines),
        page_starts=tuple(parsed.page_starts),
        headings=tuple(parsed.headings),
        title=title,
    )


@dataclass(frozen=True)
class CorpusFile:
    """A file found in the corpus folder, before parsing."""

    rel: str
    path: Path
    content_hash: str = ""
    skip_reason: str = ""  # set when the file is refused before parsing
    size: int = 0  # bytes, as scanned


def check_corpus_folder(root: Path) -> None:
    if not root.exists():
        raise CorpusError(f"corpus folder not found: {root} (create it and put {ALLOWED_TYPES} files in it)")
    if not root.is_dir():
        raise CorpusError(f"corpus path is not a folder: {root}")


def scan_corpus(root: Path, max_file_mb: float = 20.0, ignore: Path | None = None) -> list[CorpusFile]:
    """Every file under root (sorted, hidden ones ignored) with its hash or the reason it is refused.

    Symlinks that leave the folder are not followed; identical files are kept once. `ignore`: a
    folder inside root that is not part of the corpus (an index kept there).
    """
    root = Path(root)
    check_corpus_folder(root)
    resolved_root = root.resolve()
    limit = int(max_file_mb * 1024 * 1024)
    seen: dict[str, str] = {}
    found: list[CorpusFile] = []
    paths, unreadable_folders = _walk(root, ignore)
    for folder, reason in unreadable_folders:
        found.append(CorpusFile(_display_name(folder, root), folder, skip_reason=f"folder could not be read: {reason}"))
    for path in paths:
        rel = _display_name(path, root)
        if rel != "/".join(path.relative_to(root).parts):
            found.append(CorpusFile(rel, path, skip_reason="the file name is not valid UTF-8 (rename the file)"))
            continue
        if path.is_symlink():
            try:
                resolved = path.resolve(strict=True)
            except (OSError, RuntimeError):  # a dangling link or a loop of links
                found.append(CorpusFile(rel, path, skip_reason="symlink that leads nowhere (broken or a loop)"))
                continue
            if not resolved.is_relative_to(resolved_root):
                found.append(CorpusFile(rel, path,
                                        skip_reason="symlink pointing outside the corpus folder (not followed)"))
                continue
            target = resolved.relative_to(resolved_root)
            if resolved.is_file() and not any(part.startswith(".") for part in target.parts) and not (
                    ignore is not None and resolved.is_relative_to(Path(ignore).resolve())):
                # The file itself is scanned under its own name: the link would only compete for it.
                found.append(CorpusFile(rel, path, skip_reason=f"link to {'/'.join(target.parts)}, indexed itself"))
                continue
        if not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            found.append(CorpusFile(rel, path, skip_reason=f"unsupported file type {suffix or '(none)'}"))
            continue
        try:
            size = path.stat().st_size
            if size > limit:
                found.append(CorpusFile(rel, path, skip_reason=f"larger than the {max_file_mb:g} MB limit ({size / 1e6:.1f} MB)"))
                continue
            if size == 0:
                found.append(CorpusFile(rel, path, skip_reason="empty file"))
                continue
            digest = sha256_file(path)
        except OSError as exc:
            found.append(CorpusFile(rel, path, skip_reason=f"could not be read: {exc.strerror or exc}"))
            continue
        if digest in seen:
            found.append(CorpusFile(rel, path, digest, skip_reason=f"duplicate of {seen[digest]}"))
            continue
        seen[digest] = rel
        found.append(CorpusFile(rel, path, digest, size=size))
    return found


def _walk(root: Path, ignore: Path | None = None) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Every visible entry under root, sorted, without entering linked folders; and the folders
    that could not be listed, so their documents are reported rather than silently dropped."""
    paths: list[Path] = []
    unreadable: list[tuple[Path, str]] = []

    def note(error: OSError) -> None:
        unreadable.append((Path(error.filename), error.strerror or str(error)))

    skip = ignored_path(root, ignore)
    for folder, dirs, files in os.walk(root, onerror=note):
        # Hidden folders (.git, editor files), and an index kept inside the corpus folder.
        dirs[:] = [d for d in dirs if not d.startswith(".") and os.path.join(folder, d) != skip]
        paths.extend(Path(folder) / name for name in dirs + files if not name.startswith("."))
    unreadable = [(f, why) for f, why in unreadable if f != root]
    return sorted(paths), sorted(unreadable)


def _display_name(path: Path, root: Path) -> str:
    """The name relative to root; bytes that are not UTF-8 shown as escapes (\\xe9) so that the
    name can be printed and stored."""
    rel = "/".join(path.relative_to(root).parts)
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def try_load(file: CorpusFile) -> tuple[Document | None, str]:
    """Parse one scanned file: (document, "") or (None, reason it was skipped)."""
    if file.skip_reason:
        return None, file.skip_reason
    try:
        return load_document(file.path, file.rel), ""
    except Exception as exc:  # a broken file must never stop the others from loading
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"could not be read: {reason}"


def empty_corpus_error(root: Path, n_skipped: int) -> CorpusError:
    detail = f" ({n_skipped} file(s) skipped)" if n_skipped else ""
    return CorpusError(f"no usable documents in {root}{detail}: add {ALLOWED_TYPES} files")
