import re

import pytest

from bot.read.unknown_names import CorpusVocabulary, answers_for_the_rest, one_edit_apart, unknown_name
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
    "Who is Mr Cam Newton?",                          # a first word the text does not have
    "What is the Schrodinger equation?",              # written without the accent
    "Who was Temüjin's first wife?",                  # non-ASCII letters and a possessive
    "When was Zia-ul-Haq killed?",                    # hyphenated
    "Where is the Univeristy of Chicago?",            # a typing slip (two letters swapped)
    "Who won the prize in Chemstry?",                 # a typing slip (a letter left out)
    "What does the office do in June?",               # capitalised calendar words are no names
    "Is the Paris office open on a Tuesday?",         # nor days the text may hold in a range
    "From which mission on were DSMs awarded?",       # acronyms are not checked, plurals neither
])
def test_names_the_documents_have_are_known(vocabulary, question):
    assert unknown_name(question, vocabulary) == ""


@pytest.mark.parametrize("question, name", [
    ("When does the lease on the Amsterdam office end?", "Amsterdam"),
    ("Who is the Head of Marketing at the Paris office?", "Marketing"),
    ("Does it work with Google Assistant?", "Google Assistant"),
    ("What did Kent-Brown's fund buy?", "Kent-Brown's"),
    # a name's last word says which one: "Cam Smith" is not "Cam Newton"
    ("Who is Cam Smith?", "Cam Smith"),
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


@pytest.mark.parametrize("question, unknown", [
    ("What is the noise level of the RX-250?", "RX-250"),   # words "RX" and "250" are known, the code is not
    ("What is the noise level of the RX-200?", ""),
    ("How heavy is the RX 300?", ""),                       # named by the file name only, written with a space
    ("What was the status in week 13?", "week 13"),         # said with the word it numbers
    ("What was the status in Week 10?", ""),
    ("What did firmware 2.2 fix?", "firmware 2.2"),
    ("What did firmware 2.1.0 fix?", ""),                   # 2.1.0 is 2.1
    ("What was revenue in Q3?", ""),                        # "the third quarter"
    ("What was revenue in Q4?", "Q4"),
    ("What changed in 2.2.0?", "2.2.0"),                    # not "in 2.2.0"
    ("What does requirement 4.1 say?", ""),                 # "4.1 Requirements"
    ("Who sits on floor 3?", ""),                           # "the third floor"
    ("How did H1 go?", ""),                                 # "the first half"
    ("What were the CO2 levels?", ""),                      # "CO₂"
    ("Can I buy a laptop for USD 800?", ""),                # amounts are no codes
    ("Is VAT 20% charged on it?", ""),
])
def test_a_code_or_version_no_document_names_is_unknown(question, unknown):
    texts = ["Norhaven RX-200 Robot Vacuum", "Noise level: 62 dB.", "Kestrel status, week 10",
             "Firmware 2.1 fixed the dock. 250 units shipped.", "Revenue rose in the third quarter.",
             "4.1 Requirements", "Desks on the third floor.", "Sales in the first half.", "CO₂ levels fell."]
    words = {stem(w) for t in texts for w in re.findall(r"\w\w+", t.lower())}
    read = []
    vocabulary = CorpusVocabulary(words, file_names=["manuals/vacuum_rx300.md"], texts=lambda: read.append(1) or texts)
    assert unknown_name(question, vocabulary) == unknown
    assert len(read) <= 1  # the texts are read once, when a question first names a code or version


@pytest.mark.parametrize("line, for_the_rest", [
    ("Other cities — Limit: EUR 120", True), ("All other countries: 30 days", True),
    ("Elsewhere — 2 hours", True), ("Paris — Limit: EUR 180", False),
    ("The Leeds lease ends in 2027; other offices rent monthly.", False),
    ("For any city not in the table, the limit is £120 a night.", True), ("Any office not listed: contact HR", True),
    ("For any city in the table, book through the portal.", False),
])
def test_a_line_for_everything_it_does_not_name(line, for_the_rest):
    assert answers_for_the_rest(line) is for_the_rest


def test_a_word_for_a_kind_of_organisation_does_not_make_a_name_known():
    words = {stem(w) for w in ("stark", "industries", "acme", "robotics", "founded")}
    vocabulary = CorpusVocabulary(words)
    assert unknown_name("Who founded Oscorp Industries?", vocabulary) == "Oscorp Industries"
    assert unknown_name("Who is the chief executive of Hooli Robotics?", vocabulary) == "Hooli Robotics"
    assert unknown_name("Who founded Stark Industries?", vocabulary) == ""
    assert unknown_name("Where is Robotics based?", vocabulary) == ""  # the word alone is still the name


@pytest.mark.parametrize("question, unknown", [
    ("What is the default value of storage.pool_size?", "storage.pool_size"),
    ("What's the default storage.max_pool?", ""),
    ("what is server.keepalive_timeout", ""),       # the section given apart: "[server]"
    ("What does --pid-file do?", ""),               # dashes and underscores do not count
    ("What does --verbose do?", "--verbose"),
    ("How do I set FERRULE_NO_COLOR?", ""),
    ("Which env var is FERRULE_THEME?", "FERRULE_THEME"),
    ("What does release_notes.md say?", ""),         # a document's file name
    ("Was it built in the U.S., e.g. in Ohio?", ""),  # abbreviations are no identifiers
])
def test_an_identifier_no_document_writes_is_unknown(question, unknown):
    texts = ["[server]\nkeepalive_timeout = 30\n", "Set storage.max_pool to 4, or pass --pidfile.",
             "FERRULE_NO_COLOR=1 turns colours off."]
    words = {stem(w) for t in texts for w in re.findall(r"\w\w+", t.lower())} | {"built", "ohio"}
    vocabulary = CorpusVocabulary(words, file_names=["release_notes.md"], texts=lambda: texts)
    assert unknown_name(question, vocabulary) == unknown


@pytest.mark.parametrize("question, unknown", [
    ("How many died in the flood of 1886?", "1886"),
    ("What was built in 1866?", ""),              # in "1865–67"
    ("Who was vicar in 1850?", ""),                # in "1831 to 1874"
    ("What opened in 1876?", ""),                  # in "the 1870s"
    ("What did the 2021 minutes decide?", ""),     # a file name's year
    ("What was revenue in FY2024?", ""),
    ("What did it cost in 2024?", ""),             # "FY2024"
    ("How many died of cholera in 1849?", ""),
    ("Is it £1866?", ""),                           # an amount is no year
])
def test_a_year_no_document_reaches_is_unknown(question, unknown):
    texts = ["The cholera of 1849 killed 46.", "The mill was built 1865–67; more mills opened in the 1870s.",
             "He was vicar from 1831 to 1874.", "Revenue rose in FY2024."]
    words = {stem(w) for t in texts for w in re.findall(r"\w\w+", t.lower())} | {"flood", "die", "cost", "decid"}
    vocabulary = CorpusVocabulary(words, file_names=["minutes_2021.txt"], texts=lambda: texts)
    assert unknown_name(question, vocabulary) == unknown
