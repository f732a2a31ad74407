import re

import pytest

from bot.read.unknown_names import CorpusVocabulary, one_edit_apart, unknown_name
from bot.words import stem

TEXT = ("The lease on the Paris office ends in June. Cam Newton joined in 2019. Schrödinger wrote the equation. "
        "Temüjin's first wife was Börte. Zia-ul-Haq was killed. The University of Chicago teaches chemistry. "
        "The head of sales is based in Rome.")


@pytest.fixture(scope="module")
def vocabulary():
    # As BM25 stores them: stems of words of two or more letters, stop words left out.
    words = {stem(w) for w in re.findall(r"\w\w+", TEXT)} - {"the", "of", "in", "on"}
    return CorpusVocabulary(words, stop_words={"the", "of", "in", "on"})


@pytest.mark.parametrize("question", [
    "When does the Paris lease end?",                 # a name the text has
    "What position did Mr Newton play?",              # one word of the text's name
    "Who is Cam Smith?",                              # one word of a two-word name is enough
    "What is the Schrodinger equation?",              # written without the accent
    "Who was Temüjin's first wife?",                  # non-ASCII letters and a possessive
    "When was Zia-ul-Haq killed?",                    # hyphenated
    "Where is the Univeristy of Chicago?",            # a typing slip (two letters swapped)
    "Who won the prize in Chemstry?",                 # a typing slip (a letter left out)
    "What does the office do in June?",               # capitalised calendar words are no names
    "From which mission on were DSMs awarded?",       # acronyms are not checked, plurals neither
])
def test_names_the_documents_have_are_known(vocabulary, question):
    assert unknown_name(question, vocabulary) == ""


@pytest.mark.parametrize("question, name", [
    ("When does the lease on the Amsterdam office end?", "Amsterdam"),
    ("Who is the Head of Marketing at the Paris office?", "Marketing"),
    ("Does it work with Google Assistant?", "Google Assistant"),
    ("What did Kent-Brown's fund buy?", "Kent-Brown's"),
])
def test_a_name_no_document_has_a_word_of_is_reported_as_written(vocabulary, question, name):
    assert unknown_name(question, vocabulary) == name


def test_short_words_must_match_exactly():
    vocabulary = CorpusVocabulary({"rome"})
    assert unknown_name("What is the office in Rome?", vocabulary) == ""
    assert unknown_name("What is the office in Roma?", vocabulary) == "Roma"


@pytest.mark.parametrize("a, b, near", [
    ("chemistry", "chemstry", True), ("univeristy", "university", True), ("amsterdam", "amsterdan", True),
    ("amsterdam", "rotterdam", False), ("abcd", "badc", False), ("same", "same", True), ("ab", "abcd", False),
])
def test_one_edit_apart(a, b, near):
    assert one_edit_apart(a, b) is near
    assert one_edit_apart(b, a) is near


@pytest.mark.parametrize("question", ["What is the Wi-Fi password?", "Who staffs the Helpdesk?",
                                      "Does the Health Care plan cover glasses?", "Where does the Coop meet?"])
def test_a_name_written_as_one_word_or_two_is_known(question):
    words = {stem(w) for w in ("wifi", "help", "desk", "healthcare", "co", "op")}
    assert unknown_name(question, CorpusVocabulary(words)) == ""


def test_the_words_of_a_document_s_file_name_are_known():
    vocabulary = CorpusVocabulary({"leav", "day"}, file_names=["policies/acme_handbook.docx"])
    assert unknown_name("How many leave days does the Acme handbook give?", vocabulary) == ""
    assert unknown_name("How many leave days does the Globex handbook give?", vocabulary) == "Globex"
