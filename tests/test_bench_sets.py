"""The evaluation sets in bench/ stay answerable as the readers change: each answerable question's
gold answer (one of its forms at least) is still text of the documents as the bot parses them."""

from pathlib import Path

import pytest

from bot.evaluation.data import load_dataset
from bot.ingest.corpus import load_document

BENCH = Path(__file__).resolve().parent.parent / "bench"
SETS = [BENCH / "lookalike", BENCH / "long_answers" / "dev", BENCH / "long_answers" / "heldout", BENCH / "tables",
        BENCH / "policies", BENCH / "manuals", BENCH / "records", BENCH / "software", BENCH / "household",
        BENCH / "travel", BENCH / "prose"]


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("folder", SETS, ids=lambda p: str(p.relative_to(BENCH)))
def test_every_answerable_question_has_its_gold_answer_in_the_parsed_documents(folder):
    texts = [_flat(load_document(path, path.name).text) for path in sorted((folder / "corpus").iterdir())]
    dataset = load_dataset(folder / "questions.jsonl")
    answerable = [item for item in dataset.items if item.answerable]
    assert answerable and len(answerable) < len(dataset.items)  # both kinds of question
    missing = [item.id for item in answerable
               if not any(_flat(gold) in text for gold in item.answers for text in texts)]
    assert not missing


CONVERSATION_SETS = ("conversations", "conversations_dev2", "conversations_heldout", "conversations_heldout2")


@pytest.mark.parametrize("folder", [BENCH / name for name in CONVERSATION_SETS], ids=lambda p: p.name)
def test_every_answerable_turn_of_the_conversations_has_its_gold_answer_in_the_parsed_documents(folder):
    import json

    texts = [_flat(load_document(path, path.name).text) for path in sorted((folder / "corpus").iterdir())]
    conversations = [json.loads(line) for line in (folder / "conversations.jsonl").read_text().splitlines() if line]
    turns = [(c["id"], n, turn) for c in conversations for n, turn in enumerate(c["turns"], start=1)]
    assert any(turn["answers"] for *_, turn in turns) and any(not turn["answers"] for *_, turn in turns)
    missing = [(cid, n) for cid, n, turn in turns
               if turn["answers"] and not any(_flat(gold) in text for gold in turn["answers"] for text in texts)]
    assert not missing
