"""Labelled question files (JSONL, CSV, SQuAD) read into typed records, and seeded samples."""


from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.errors import DataError, UsageError
from bot.questions import clean_question
from bot.evaluation.squad import load_squad, squad_version

MODES = ("corpus", "squad-open", "gold-context")
STAGES = ("not_retrieved", "misread", "wrongly_refused", "answered_unanswerable")
_TRUE = {"true", "1", "yes", "y", ""}
_FALSE = {"false", "0", "no", "n"}
_FIELDS = ("question", "answers", "answerable", "evidence", "id")  # what a JSONL record or CSV row is read for



@dataclass(frozen=True)
class EvalItem:
    """One labelled question."""

    id: str
    question: str
    answers: tuple[str, ...]
    answerable: bool = True
    evidence: str = ""
    line: int | None = None  # where it starts in the file (JSONL/CSV)
    context: str = ""  # SQuAD: the question's own paragraph
    paragraph_index: int | None = None


@dataclass(frozen=True)
class Paragraph:
    index: int
    title: str
    context: str


@dataclass(frozen=True)
class InvalidLine:
    line: int | None
    reason: str


@dataclass
class Dataset:
    path: Path
    format: str  # jsonl | csv | squad-1.1 | squad-2.0
    items: list[EvalItem]
    invalid: list[InvalidLine] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)  # SQuAD files only
    n_available: int = 0  # valid questions in the file, before sampling

    @property
    def is_squad(self) -> bool:
        return self.format.startswith("squad")


def load_dataset(path: str | Path, skip_invalid: bool = False) -> Dataset:
    """Read a JSONL, CSV or SQuAD (v1.1/v2.0, detected by content) file.

    A malformed line or row raises DataError naming the file and line, unless skip_invalid,
    in which case it is recorded in `Dataset.invalid`.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a question file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    squad = _as_squad(text, path)
    if squad is not None:
        dataset = _load_squad(path, squad)
    elif path.suffix.lower() == ".csv":
        dataset = _load_csv(path, text, skip_invalid)
    elif text.strip() and not any(_is_json(line) for line in text.split("\n") if line.strip()):
        # Not one line of JSON: a document or some other file, not a JSONL file with a broken line.
        raise DataError(f"{path}: not a questions file: expected JSONL (one JSON object per line), "
                        f".csv or a SQuAD .json")
    else:
        dataset = _load_jsonl(path, text, skip_invalid)
    if not dataset.items:
        why = f" ({len(dataset.invalid)} invalid)" if dataset.invalid else ""
        raise DataError(f"{path}: no questions to evaluate{why}")
    dataset.n_available = len(dataset.items)
    return dataset


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return False
    return True


def _as_squad(text: str, path: Path) -> dict | None:
    """The parsed file if it is one JSON object with a 'data' list (the SQuAD layout), and no
    'question': that is a JSONL file of one line whose record has a field named 'data'."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None  # e.g. JSONL: several objects
    except RecursionError:
        raise DataError(f"{path}: its JSON is nested too deeply to read") from None
    if not isinstance(data, dict) or "question" in data:
        return None
    if isinstance(data.get("data"), list):
        return data
    if "data" in data:
        raise DataError(f"{path}: this looks like a SQuAD file, but its 'data' is a {type(data['data']).__name__}, "
                        "not a list of articles")
    return None


def _load_squad(path: Path, data: dict) -> Dataset:
    version = squad_version(data, path)
    try:
        examples = load_squad(path)
        paragraphs = [
            Paragraph(n, article.get("title", ""), paragraph["context"])
            for n, (article, paragraph) in enumerate(
                (a, p) for a in data["data"] for p in a.get("paragraphs", []))
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{path}: malformed SQuAD entry ({type(exc).__name__}: {exc})") from None
    items = [
        EvalItem(id=e.id, question=e.question, answers=e.answers, answerable=e.answerable,
                 context=e.context, paragraph_index=e.paragraph_index)
        for e in examples
    ]
    return Dataset(path, f"squad-{version}", items, paragraphs=paragraphs)


def _load_jsonl(path: Path, text: str, skip_invalid: bool) -> Dataset:
    items, invalid = [], []
    # Lines end at "\n" only: JSON strings may hold U+2028 and other characters splitlines breaks at.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
            except RecursionError:
                raise ValueError("JSON nested too deeply") from None
            if not isinstance(record, dict):
                raise ValueError(f"expected a JSON object, got {type(record).__name__}")
            items.append(_item(record, number, f"line{number}"))
        except ValueError as exc:
            _invalid(path, number, str(exc), skip_invalid, invalid)
    return Dataset(path, "jsonl", items, invalid)


def _load_csv(path: Path, text: str, skip_invalid: bool) -> Dataset:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise DataError(f"{path} line 1: {exc}") from None
    twice = sorted({c for c in header if c in _FIELDS and header.count(c) > 1})
    if twice:  # which of the two cells would count is anyone's guess
        raise DataError(f"{path} line 1: column {twice[0]!r} appears more than once")
    missing = [c for c in ("question", "answers") if c not in header]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(header) or 'none'})")
    items, invalid = [], []
    while True:
        number = reader.line_num + 1  # a quoted cell may span lines: report where the row starts
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            _invalid(path, number, str(exc), skip_invalid, invalid)
            continue
        if not any(cell.strip() for cell in row):
            continue
        try:
            if len(row) != len(header):
                raise ValueError(f"expected {len(header)} fields, found {len(row)}")
            record = dict(zip(header, row))
            record["answers"] = _csv_answers(record["answers"])
            items.append(_item(record, number, f"row{number}"))
        except ValueError as exc:
            _invalid(path, number, str(exc), skip_invalid, invalid)
    return Dataset(path, "csv", items, invalid)


def _csv_answers(cell: str) -> list:
    """A JSON list, or answers separated by '|'."""
    cell = cell.strip()
    if cell.startswith("["):
        try:
            value = json.loads(cell)
        except json.JSONDecodeError as exc:
            raise ValueError(f"answers look like a JSON list but are not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise ValueError("answers are a JSON list nested too deeply") from None
        return value
    return [a.strip() for a in cell.split("|") if a.strip()]


def _item(record: dict, line: int, default_id: str) -> EvalItem:
    if "question" not in record:
        raise ValueError("missing 'question'")
    question = record["question"]
    if not isinstance(question, str):
        raise ValueError("'question' must be text")
    try:
        clean_question(question, 10**9)
    except UsageError:
        raise ValueError("the question is empty") from None
    answerable = _flag(record.get("answerable", True))
    answers = record.get("answers", [])
    if isinstance(answers, str):
        answers = [answers]
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise ValueError("'answers' must be a list of strings")
    answers = tuple(a for a in answers if a.strip())
    if answerable and not answers:
        raise ValueError("an answerable question needs at least one non-empty answer "
                         "(mark one the documents do not answer with \"answerable\": false)")
    evidence = record.get("evidence") or ""
    if not isinstance(evidence, str):
        raise ValueError("'evidence' must be text")
    item_id = record.get("id")
    item_id = default_id if item_id is None or str(item_id).strip() == "" else str(item_id)
    return EvalItem(item_id, question, answers, answerable, evidence.strip(), line)


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):  # as "0" and "1" in a CSV cell
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if value is None:
        return True
    raise ValueError(f"'answerable' must be true or false (got {value!r})")


def _invalid(path: Path, line: int, reason: str, skip: bool, out: list[InvalidLine]) -> None:
    if not skip:
        raise DataError(f"{path} line {line}: {reason}")
    out.append(InvalidLine(line, reason))


def select_articles(dataset: Dataset, titles: frozenset[str] | set[str] | None) -> Dataset:
    """Only the questions and paragraphs of the named SQuAD articles (None keeps everything)."""
    if not titles:
        return dataset
    if not dataset.is_squad:
        raise UsageError(f"{dataset.path}: choosing articles (FILE@Title,...) needs a SQuAD file")
    missing = set(titles) - {p.title for p in dataset.paragraphs}
    if missing:
        raise DataError(f"{dataset.path}: no article named {', '.join(sorted(missing))}")
    keep = {p.index for p in dataset.paragraphs if p.title in titles}
    items = [i for i in dataset.items if i.paragraph_index in keep]
    return replace(dataset, paragraphs=[p for p in dataset.paragraphs if p.index in keep], items=items,
                   n_available=len(items))


def split_article_spec(spec: str) -> tuple[str, frozenset[str] | None]:
    """"file.json" or "file.json@Title_One,Title_Two" -> (path, titles or None)."""
    if "@" not in spec or Path(spec).exists():  # a file whose own path holds "@"
        return spec, None
    path, _, titles = spec.rpartition("@")
    return path, frozenset(t for t in titles.split(",") if t) or None


def sample(dataset: Dataset, limit: int | None, seed: int = 0) -> Dataset:
    """A reproducible random sample of `limit` questions, kept in file order."""
    if limit is None or limit >= len(dataset.items):
        return dataset
    if limit < 1:
        raise UsageError(f"--limit must be >= 1 (got {limit})")
    keep = sorted(random.Random(seed).sample(range(len(dataset.items)), limit))
    return replace(dataset, items=[dataset.items[i] for i in keep])


def choose_mode(dataset: Dataset, gold_context: bool, squad_open: bool) -> str:
    if gold_context and squad_open:
        raise UsageError("choose one of --gold-context and --squad-open")
    if dataset.is_squad:
        if not (gold_context or squad_open):
            raise UsageError(f"{dataset.path} is a SQuAD file: add --gold-context (reader only, each question "
                             "against its own paragraph) or --squad-open (all paragraphs as the corpus)")
        return "gold-context" if gold_context else "squad-open"
    if gold_context or squad_open:
        raise UsageError("--gold-context and --squad-open apply to SQuAD files only")
    return "corpus"


