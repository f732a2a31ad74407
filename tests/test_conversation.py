from bot.conversation import resolve, subject_of


def test_subject_prefers_acronyms_then_names_then_noun_phrase():
    assert subject_of("When was the BCIJ established?") == "BCIJ"
    assert subject_of("Who designed the Golden Gate Bridge?") == "Golden Gate Bridge"
    assert subject_of("how tall is the old lighthouse?") == "old lighthouse"
    assert subject_of("when was the treaty signed?") == "treaty"


def test_pronoun_is_replaced_by_previous_subject():
    r = resolve("What is it responsible for?", ["When was the BCIJ established?"])
    assert r.reader_question == "What is BCIJ responsible for?"
    assert "BCIJ" in r.retrieval_query and r.subject == "BCIJ"
    assert resolve("What are its goals?", ["When was the BCIJ established?"]).reader_question == "What are BCIJ's goals?"


def test_standalone_questions_are_untouched():
    assert resolve("When did Hekla erupt?", ["When was the BCIJ established?"]).reader_question == "When did Hekla erupt?"
    assert resolve("What is it?", None).reader_question == "What is it?"
