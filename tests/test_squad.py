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


def _one_question(**qa) -> dict:
    entry = {"id": "q1", "question": "When did it open?", "answers": [{"text": "1937", "answer_start": 21}], **qa}
    return {"data": [{"title": "Bridge", "paragraphs": [
        {"context": "The bridge opened in 1937.", "qas": [{k: v for k, v in entry.items() if v is not ...}]}]}]}


def test_a_byte_order_mark_is_read_as_in_jsonl_and_csv(tmp_path):
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(_one_question()), encoding="utf-8-sig")
    [e] = load_squad(path)
    assert e.answers == ("1937",)


def test_is_impossible_written_as_text_keeps_its_meaning(tmp_path):
    [e] = load_squad(_file(tmp_path, _one_question(is_impossible="false")))
    assert e.answerable and e.answers == ("1937",)
    [e] = load_squad(_file(tmp_path, _one_question(is_impossible="true")))
    assert not e.answerable


@pytest.mark.parametrize("qa,message", [
    ({"question": None}, "question 'q1': the question is None"),
    ({"question": "   "}, "the question is '   '"),
    ({"answers": ...}, "an answerable question needs a non-empty 'answers' list"),
    ({"answers": []}, "an answerable question needs a non-empty 'answers' list"),
    ({"is_impossible": "maybe"}, "is_impossible is 'maybe'"),
    ({"answers": [{"text": "1937"}]}, "each answer needs a text and a whole-number answer_start"),
    ({"id": ...}, "it has no id"),
])
def test_a_malformed_question_is_a_data_error_naming_it(tmp_path, qa, message):
    with pytest.raises(DataError, match="malformed SQuAD entry") as info:
        load_squad(_file(tmp_path, _one_question(**qa)))
    assert message in str(info.value)


def test_a_title_that_is_not_text_is_a_data_error(tmp_path):
    data = _one_question()
    data["data"][0]["title"] = 7
    with pytest.raises(DataError, match="title is 7, not text"):
        load_squad(_file(tmp_path, data))
