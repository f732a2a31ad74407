"""Read SQuAD v1.1 / v2.0 JSON files into typed examples."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bot.errors import DataError


@dataclass(frozen=True)
class SquadExample:
    id: str
    title: str
    context: str
    question: str
    answers: tuple[str, ...]
    answer_starts: tuple[int, ...]
    # Index of the paragraph within the file, so paragraphs can be grouped without re-hashing text.
    paragraph_index: int

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def squad_version(data: dict, path: Path) -> str:
    """"2.0" when any question may be unanswerable, else "1.1", judged by the file's structure.

    The "version" field is not trusted: derived sets (SQuADShifts says "1.0") keep the layout
    under other version strings. A file without the layout fails loudly.
    """
    articles = data.get("data")
    if not isinstance(articles, list) or not all(
            isinstance(a, dict) and isinstance(a.get("paragraphs"), list) for a in articles):
        raise DataError(f"{path}: not a SQuAD file (expected data[].paragraphs[] with context and qas)")
    for article in articles:
        for paragraph in article["paragraphs"]:
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str) \
                    or not isinstance(paragraph.get("qas"), list):
                raise DataError(f"{path}: not a SQuAD file (a paragraph lacks context or qas)")
            if any(isinstance(qa, dict) and qa.get("is_impossible") not in (None, False, "false", "False")
                   for qa in paragraph["qas"]):
                return "2.0"
    return "1.1"


def load_squad(path: str | Path, titles: set[str] | None = None) -> list[SquadExample]:
    """Load every question of a SQuAD file (optionally only some articles)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise DataError(f"{path}: its JSON is nested too deeply to read") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataError(f"{path}: not a SQuAD file (no top-level 'data' list)")
    squad_version(data, path)
    examples: list[SquadExample] = []
    paragraph_index = -1
    for article in data["data"]:
        title = article.get("title", "")
        if not isinstance(title, str):
            raise DataError(f"{path}: malformed SQuAD entry (an article's title is {title!r}, not text)")
        for paragraph in article.get("paragraphs", []):
            paragraph_index += 1
            if titles is not None and title not in titles:
                continue
            context = paragraph["context"]
            for qa in paragraph.get("qas", []):
                examples.append(_example(path, qa, title, context, paragraph_index))
    return examples


def _example(path: Path, qa: dict, title: str, context: str, paragraph_index: int) -> SquadExample:
    where = f"{path}: malformed SQuAD entry (question {qa.get('id')!r}"
    question = qa.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DataError(f"{where}: the question is {question!r})")
    impossible = qa.get("is_impossible", False)
    if isinstance(impossible, str) and impossible.strip().lower() in ("true", "false"):
        impossible = impossible.strip().lower() == "true"
    if impossible not in (True, False, None):
        raise DataError(f"{where}: is_impossible is {impossible!r}, not true or false)")
    if impossible:
        answers = []
    elif not isinstance(qa.get("answers"), list) or not qa["answers"]:
        # Only v2.0's is_impossible marks a question without an answer; a missing list is an error.
        raise DataError(f"{where}: an answerable question needs a non-empty 'answers' list)")
    else:
        answers = qa["answers"]
    if "id" not in qa:
        raise DataError(f"{where}: it has no id)")
    if not all(isinstance(a, dict) and isinstance(a.get("text"), str) and isinstance(a.get("answer_start"), int)
               and not isinstance(a.get("answer_start"), bool) for a in answers):
        raise DataError(f"{where}: each answer needs a text and a whole-number answer_start)")
    return SquadExample(
        id=str(qa["id"]),
        title=title,
        context=context,
        question=question,
        answers=tuple(a["text"] for a in answers),
        answer_starts=tuple(int(a["answer_start"]) for a in answers),
        paragraph_index=paragraph_index,
    )
