"""Load a folder of documents. Files that cannot be used are skipped and reported by name;
nothing in the folder is ever modified."""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import CorpusError, first_line
from bot.files import file_sha256
from bot.ingest.corpus_watch import ignored_path
from bot.ingest.html import parse_html
from bot.ingest.markdown import parse_markdown
from bot.ingest.parsed_text import ParsedText
from bot.ingest.pdf import parse_pdf
from bot.ingest.plain_text import parse_plain
from bot.ingest.word import parse_docx
from bot.types import Document

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md",
                      ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}
# The main suffix of each kind, for messages that say what can be added.
ALLOWED_TYPES = ".txt, .md, .html, .pdf or .docx"
# The start of the reason a file is skipped for when reading it failed (EIO, a network share gone,
# a lock held by another program): that says nothing of its content, so it is tried again at the
# next sync, where a file the bot cannot use (no text, an encrypted PDF) waits until it changes.
READ_FAILED = "read error: "


_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_SNIFF_BYTES = 8192
# ANSI terminal escapes, e.g. the colours of a log or a script's window title: CSI (ESC [ parameters
# intermediates final), OSC and the other strings (ESC ] ... up to BEL or ESC \\; not across lines, so
# an unterminated one cannot swallow the text), and the short ones (ESC c: reset). Left in, they
# would reach the index, the answers and the user's terminal. (Their one-byte C1 forms are not
# matched: in text decoded as Latin-1 those bytes are stray, and the letters after them text.)
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b\n]*(?:\x07|\x1b\\)|\x1b[!-/]*[0-~]")
# The control characters left after those: C0 but tab, line breaks (\r is read as one) and form
# feed (a page break in plain text), DEL and C1. Those that separate words (\v, \x1c-\x1f, NEL)
# become a space, the rest (NUL, BEL, a lone ESC...) go.
_SPACING_CONTROLS = re.compile(r"[\x0b\x1c-\x1f\x85]")
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f]")
# Bytes that were not UTF-8, as decoding with "surrogateescape" leaves them.
_ESCAPED_BYTES = re.compile(r"[\udc80-\udcff]+")
# A file counts as UTF-8 with a few bad bytes when its valid multi-byte characters outnumber the
# bad bytes at least this many times; cp1252 text almost never forms valid UTF-8 by chance.
_UTF8_MAJORITY = 2
# Where, and how, an HTML file may name its charset (both <meta charset> and http-equiv forms).
_HTML_CHARSET_BYTES = 2048
_HTML_COMMENT = re.compile(rb"<!--.*?(?:-->|$)", re.DOTALL)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
# Printable ASCII and escapes: a charset that does not read these as themselves cannot be the one
# a <meta> written in ASCII declares (UTF-16/32, EBCDIC, unicode_escape, ...).
_ASCII_PROBE = bytes(range(0x20, 0x7F)) + b"\t\n\r\\u0041\\n"
# The supersets browsers decode these labels with; the files behind them use the extra characters.
_BROWSER_SUPERSETS = {"ascii": "cp1252", "iso8859-1": "cp1252", "iso8859-9": "cp1254", "tis-620": "cp874",
                      "shift_jis": "cp932", "gb2312": "gb18030", "euc_kr": "cp949"}


def decode_text(raw: bytes, declared: str | None = None) -> str:
    """Decode text the way a careful editor would: BOMs first, then UTF-8, then cp1252/latin-1.

    `declared`: the charset the file names for itself (see html_charset); a BOM overrides it, and
    so do bytes that are valid, non-ASCII UTF-8 or that the declared charset cannot decode.
    Raises ValueError for content that is binary rather than text.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        text = raw[3:].decode("utf-8", errors="replace")
    elif raw.startswith(_UTF32_BOMS):  # before UTF-16: b"\xff\xfe" also begins the UTF-32-LE BOM
        text = raw.decode("utf-32", errors="replace")
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16", errors="replace")
    else:
        text = _decode_unmarked(raw, declared)
    # Binary content is judged on the first 8 KB, NULs and control characters alike; one further
    # on is a stray byte in a file judged to be text, and never text itself.
    return _OTHER_CONTROLS.sub("", _SPACING_CONTROLS.sub(" ", _ANSI_ESCAPE.sub("", text)))


def _decode_unmarked(raw: bytes, declared: str | None) -> str:
    """Decode bytes without a BOM, refusing binary content."""
    sample = raw[:_SNIFF_BYTES]
    # UTF-16 without a BOM: every other byte is NUL in ASCII-heavy text.
    if sample and sample.count(b"\x00") > len(sample) // 3:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if max(even, odd) > 0.8 * (len(sample) // 2) and min(even, odd) < 0.1 * (len(sample) // 2):
            return raw.decode("utf-16-le" if odd > even else "utf-16-be", errors="replace")
    if b"\x00" in sample:
        raise ValueError("binary content (NUL bytes)")
    text = _decode_8bit(raw, declared)
    # Colour codes are markup of a log, not binary: they are removed before the count.
    head = _ANSI_ESCAPE.sub("", text[:_SNIFF_BYTES])
    controls = sum(1 for ch in head if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(8, len(head) // 50):
        raise ValueError("binary content (control characters)")
    return text


def _decode_8bit(raw: bytes, declared: str | None) -> str:
    try:
        utf8: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    # Non-ASCII bytes that are valid UTF-8 outweigh a declaration (often left over after the file
    # was re-saved as UTF-8); pure ASCII follows it (ISO-2022-JP is ASCII bytes).
    if declared and (utf8 is None or raw.isascii()):
        try:
            return raw.decode(declared)
        except UnicodeDecodeError:
            pass  # the declaration is wrong: judge the bytes alone
    if utf8 is not None:
        return utf8
    escaped = raw.decode("utf-8", errors="surrogateescape")
    # Counted without lists (a large file): encoding with "ignore" drops the bad bytes / all non-ASCII.
    bad = len(raw) - len(escaped.encode("utf-8", errors="ignore"))
    valid_multibyte = len(escaped) - len(escaped.encode("ascii", errors="ignore")) - bad
    if valid_multibyte >= _UTF8_MAJORITY * bad:
        # UTF-8 with a few stray single-byte characters (a pasted Latin-1 line): read those alone as cp1252.
        return _ESCAPED_BYTES.sub(_decode_escaped_run, escaped)
    return _decode_single_byte(raw)


def _decode_escaped_run(run: re.Match[str]) -> str:
    return _decode_single_byte(run.group().encode("utf-8", errors="surrogateescape"))


def _decode_single_byte(raw: bytes) -> str:
    """cp1252, or latin-1 where bytes undefined in cp1252 occur (latin-1 decodes every byte)."""
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def html_charset(raw: bytes) -> str | None:
    """The Python codec for the charset an HTML file declares in a <meta> near its start; None when
    it declares none, or one Python does not know or that does not keep ASCII as ASCII."""
    head = _HTML_COMMENT.sub(b"", raw[:_HTML_CHARSET_BYTES])
    match = _META_CHARSET.search(head)
    if match is None:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
        if _ASCII_PROBE.decode(name) != _ASCII_PROBE.decode("ascii"):
            return None
    except (LookupError, UnicodeError):  # LookupError too for bytes-to-bytes codecs such as base64
        return None
    return _BROWSER_SUPERSETS.get(name, name)


def parse_file(kind: str, raw: bytes) -> ParsedText:
    if kind == "pdf":
        return parse_pdf(raw)
    if kind == "docx":
        return parse_docx(raw)
    declared = html_charset(raw) if kind == "html" else None
    text = decode_text(raw, declared).replace("\r\n", "\n").replace("\r", "\n")
    if kind == "md":
        return parse_markdown(text)
    if kind == "html":
        return parse_html(text)
    return parse_plain(text)


def title_from_name(name: str) -> str:
    """The title of a document whose text names none: its file name, without the suffix."""
    return Path(name).stem.replace("_", " ")


def load_document(path: Path, doc_id: str, raw: bytes | None = None) -> Document:
    """Parse one file into a Document (raises ValueError/OSError with a reason on failure)."""
    kind = SUPPORTED_SUFFIXES[path.suffix.lower()]
    raw = path.read_bytes() if raw is None else raw
    parsed = parse_file(kind, raw)
    if not any(c.isprintable() and not c.isspace() for c in parsed.text):  # zero-width spaces alone too
        raise ValueError("no text found")
    title = parsed.title or title_from_name(path.name)
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
        block_starts=tuple(parsed.block_starts),
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
    try:
        with os.scandir(root):
            pass
    except OSError as exc:  # a folder without read permission would look empty
        raise CorpusError(f"cannot read the corpus folder {root}: {(exc.strerror or str(exc)).lower()}") from None


_EDITOR_LEFTOVER = re.compile(r"^~\$|~$|\.sw[a-p]$")


def editor_leftover(name: str) -> bool:
    """Whether a file name is an editor's lock, backup or swap file, which the scan passes over."""
    return _EDITOR_LEFTOVER.search(name) is not None


def scan_corpus(root: Path, max_file_mb: float = 20.0, ignore: Path | None = None,
                leave_out: frozenset[str] = frozenset()) -> list[CorpusFile]:
    """Every file under root (sorted, hidden ones ignored) with its hash or the reason it is refused.

    Symlinks that leave the folder are not followed; identical files are kept once. `ignore`: a
    folder inside root that is not part of the corpus (an index kept there). `leave_out`: names
    (relative paths) scanned as if they were not there (a document being removed).
    """
    root = Path(root)
    check_corpus_folder(root)
    resolved_root = root.resolve()
    limit = int(max_file_mb * 1024 * 1024)
    seen: dict[str, int] = {}  # a file's digest -> where in `found` the copy kept is
    found: list[CorpusFile] = []
    paths, unreadable_folders = _walk(root, ignore)
    for folder, reason in unreadable_folders:
        found.append(CorpusFile(_display_name(folder, root), folder, skip_reason=f"folder could not be read: {reason}"))
    for path in paths:
        rel = _display_name(path, root)
        if rel in leave_out:
            continue
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
                    ignore is not None and resolved.is_relative_to(Path(ignore).resolve())) and \
                    resolved.suffix.lower() in SUPPORTED_SUFFIXES:
                # The file itself is scanned under its own name: the link would only compete for it.
                # (A link "notes.txt" to "notes.log" is read under the link's name: the target is not.)
                found.append(CorpusFile(rel, path, skip_reason=f"link to {'/'.join(target.parts)}, indexed itself"))
                continue
        if not path.is_file():
            continue
        if editor_leftover(path.name):
            continue  # Word's lock file (~$report.docx), an editor's backup (notes.txt~) or swap file
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
            digest = file_sha256(path)
        except OSError as exc:
            found.append(CorpusFile(rel, path, skip_reason=f"{READ_FAILED}{exc.strerror or first_line(exc)}"))
            continue
        if digest in seen:
            k = seen[digest]
            kept = found[k]
            if _type_fits(path) and not _type_fits(kept.path):
                # "report.docx" copied to "report.txt" sorts first: the copy would be read as text
                # (and refused as binary) in the real document's place.
                found[k] = CorpusFile(kept.rel, kept.path, digest, skip_reason=f"duplicate of {rel}")
                seen[digest] = len(found)
                found.append(CorpusFile(rel, path, digest, size=size))
                continue
            found.append(CorpusFile(rel, path, digest, skip_reason=f"duplicate of {kept.rel}"))
            continue
        seen[digest] = len(found)
        found.append(CorpusFile(rel, path, digest, size=size))
    return found


# The first bytes of a PDF and of a zip (a .docx); any other file is read as text.
_SIGNATURES = {b"%PDF": ".pdf", b"PK\x03\x04": ".docx"}


def _type_fits(path: Path) -> bool:
    """Whether a file's name says the type its first bytes show (a PDF named .pdf, a text file
    named .txt), so that of two copies of one file the one read as what it is is kept."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    shown = next((suffix for signature, suffix in _SIGNATURES.items() if head.lstrip().startswith(signature)), None)
    suffix = path.suffix.lower()
    return suffix == shown if shown else suffix not in _SIGNATURES.values()


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


def is_read_failure(reason: str) -> bool:
    """Whether a skip reason is a failed read, worth trying again, rather than a verdict on the content."""
    return reason.startswith(READ_FAILED)


def try_load(file: CorpusFile) -> tuple[Document | None, str]:
    """Parse one scanned file: (document, "") or (None, reason it was skipped)."""
    if file.skip_reason:
        return None, file.skip_reason
    try:
        raw = file.path.read_bytes()
    except OSError as exc:
        return None, f"{READ_FAILED}{exc.strerror or first_line(exc)}"
    try:
        return load_document(file.path, file.rel, raw), ""
    except Exception as exc:  # a broken file must never stop the others from loading
        reason = first_line(exc)
        return None, f"could not be read: {reason}"


def empty_corpus_error(root: Path, skipped: Sequence[Sequence[str]]) -> CorpusError:
    """The error for a folder with nothing to index; when files were skipped, why (the first
    few), since no later note would say."""
    if not skipped:
        return CorpusError(f"no usable documents in {root}: add {ALLOWED_TYPES} files")
    reasons = "; ".join(f"{name}: {reason}" for name, reason, *_ in skipped[:3])
    more = f"; {len(skipped) - 3} more" if len(skipped) > 3 else ""
    return CorpusError(f"no usable documents in {root}: every file was skipped ({reasons}{more})")
