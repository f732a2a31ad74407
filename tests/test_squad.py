"""SQuAD files: read into typed examples, recognised by structure, malformed ones refused."""

import json

import pytest

from bot.errors import DataError
from bot.evaluation.squad import load_squad, squad_version


def _file(tmp_path, data) -> str:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_examples_carry_answers_offsets_and_paragraph_index(tmp_path):
    context = "The bridge opened in 1937. It is red."
    data = {"version": "1.1", "data": [{"title": "Bridge", "paragraphs": [
        {"context": "Intro.", "qas": []},
        {"context": context, "qas": [{"id": "q1", "question": "When did it open?",
                                      "answers": [{"text": "1937", "answer_start": 21}]}]}]}]}
    [e] = load_squad(_file(tmp_path, data))
    assert (e.id, e.title, e.paragraph_index, e.answers) == ("q1", "Bridge", 1, ("1937",))
    assert e.context[e.answer_starts[0]: e.answer_starts[0] + 4] == "1937" and e.answerable


def test_unanswerable_questions_have_no_answers_and_make_it_version_2(tmp_path):
    data = {"version": "1.0", "data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [
        {"id": "n", "question": "Why?", "answers": [], "is_impossible": True,
         "plausible_answers": [{"text": "c", "answer_start": 0}]}]}]}]}
    assert squad_version(data, "x") == "2.0"
    [e] = load_squad(_file(tmp_path, data))
    assert not e.answerable and e.answers == ()


def test_only_named_articles_are_read(tmp_path):
    data = {"data": [{"title": t, "paragraphs": [{"context": "c", "qas": [
        {"id": t, "question": "q", "answers": [{"text": "c", "answer_start": 0}]}]}]} for t in ("A", "B")]}
    assert [e.id for e in load_squad(_file(tmp_path, data), titles={"B"})] == ["B"]


@pytest.mark.parametrize("content,message", [
    ("not json", "not valid JSON"),
    ('{"data": 3}', "not a SQuAD file"),
    ('{"data": [{"title": "t", "paragraphs": [{"context": "c"}]}]}', "a paragraph lacks context or qas"),
])
def test_malformed_files_are_data_errors(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_squad(path)
