import pytest

from bot.conversation import resolve, subject_of


def test_subject_prefers_acronyms_then_names_then_noun_phrase():
    assert subject_of("When was the BCIJ established?") == "BCIJ"
    assert subject_of("Who designed the Golden Gate Bridge?") == "Golden Gate Bridge"
    assert subject_of("how tall is the old lighthouse?") == "old lighthouse"
    assert subject_of("when was the treaty signed?") == "treaty"


def test_pronoun_is_replaced_by_previous_subject():
    r = resolve("What is it responsible for?", ["When was the BCIJ established?"])
    assert r.reader_question == "What is the BCIJ responsible for?"
    assert "BCIJ" in r.retrieval_query and r.subject == "BCIJ"
    assert resolve("What are its goals?", ["When was the BCIJ established?"]).reader_question == "What are the BCIJ's goals?"


def test_standalone_questions_are_untouched():
    assert resolve("When did Hekla erupt?", ["When was the BCIJ established?"]).reader_question == "When did Hekla erupt?"
    assert resolve("What is it?", None).reader_question == "What is it?"


def test_after_a_who_question_answered_with_a_name_he_means_that_name():
    from bot.conversation import Turn

    asked = Turn("Who was the captain of the Esperance?", "John Hale")
    assert resolve("Where was he born?", [asked]).reader_question == "Where was John Hale born?"
    assert resolve("What was his rank?", [{"question": asked.question, "answer": asked.answer}]).reader_question \
        == "What was John Hale's rank?"
    # "it" is still the question's own subject, and a description is no name
    assert resolve("When was it built?", [asked]).reader_question == "When was the Esperance built?"
    described = Turn("Who is Abdelhamid Abaaoud?", "a Belgian of Moroccan descent")
    assert resolve("Where was he born?", [described]).reader_question == "Where was Abdelhamid Abaaoud born?"
    # a question without its answer, or an odd entry, is read as before
    assert "John Hale" not in resolve("Where was he born?", [asked.question]).reader_question
    assert resolve("Where was he born?", [{"answer": "John Hale"}, 7]).reader_question == "Where was he born?"


def test_the_chat_page_passes_the_answers_it_gave():
    from bot.conversation import Turn
    from bot.ui.render import chat_turns

    messages = [
        {"role": "user", "content": "Who was the captain of the Esperance?"},
        {"role": "assistant", "content": '<div class="qa-msg qa-found"><blockquote class="qa-quote">“The captain '
                                         'was <mark>John Hale &amp; Son</mark>.”</blockquote></div>'},
        {"role": "user", "content": "Who owned the ship?"},
        {"role": "assistant", "content": '<div class="qa-msg qa-notfound"><p>Not found</p>'
                                         '<mark>not an answer</mark></div>'},
        {"role": "user", "content": "And the crew?"},
    ]
    assert chat_turns(messages) == [Turn("Who was the captain of the Esperance?", "John Hale & Son"),
                                    Turn("Who owned the ship?"), Turn("And the crew?")]


def test_a_follow_up_of_a_follow_up_keeps_the_subject():
    chain = ["Tell me about the Old Harbour Lighthouse.", "When was it built?"]
    assert resolve("When was it automated?", chain).reader_question == "When was the Old Harbour Lighthouse automated?"
    chain = ["What does Acme Robotics build?", "When was it founded?"]
    assert resolve("Who runs it today?", chain).reader_question == "Who runs Acme Robotics today?"


def test_which_questions_answered_with_a_name_and_names_with_of():
    from bot.conversation import Turn

    which = Turn("Which company builds warehouse robots?", "Acme Robotics")
    assert resolve("Who is its chief executive?", [which]).reader_question == "Who is Acme Robotics's chief executive?"
    # "what is ..." asks for a description, not a thing of a kind: its subject stays
    assert resolve("When was it founded?", [Turn("What is the BCIJ?", "Central Bureau")]).subject == "BCIJ"
    assert subject_of("Tell me about the Bank of England") == "Bank of England"


def test_an_answer_names_the_referent_only_when_the_question_asked_for_it():
    from bot.conversation import Turn

    # the question names its own subject: "it" is still that subject, not the answer
    assert resolve("How tall is it?", [Turn("Which city is the Eiffel Tower in?", "Paris")]).subject == "Eiffel Tower"
    # "what" asks for a cause or a description, not the thing "it" means next
    assert resolve("When was it rebuilt?", [Turn("What destroyed the old lighthouse?", "Storm Ciara")]).reader_question \
        == "When was the old lighthouse rebuilt?"
    # a common noun keeps its article, so a chain of follow-ups still finds it
    chain = ["When was the lighthouse built?", "When was it automated?"]
    assert resolve("Who designed it?", chain).reader_question == "Who designed the lighthouse?"


def test_a_long_odd_answer_costs_no_time():
    """Earlier answers come from clients: telling a name from a description must stay linear."""
    import time

    from bot.conversation import Turn, is_name

    began = time.perf_counter()
    is_name("-".join(["A"] * 400) + "!")
    resolve("Where was he born?", [Turn("Who built it?", "-".join(["A"] * 400) + " x!")])
    assert time.perf_counter() - began < 0.1
    assert is_name("Bank of England") and is_name("Morocco and Spain") and not is_name("a Belgian of Moroccan descent")


def test_the_subject_is_what_a_kind_of_thing_belongs_to_and_numbers_stay_in_names():
    asked = resolve("When will its version 2 be switched off?", ["What is the base URL of the ParcelPoint API?"])
    assert asked.reader_question == "When will the ParcelPoint API's version 2 be switched off?"
    asked = resolve("Where do they play?", ["Who won Division 2 last season?"])
    assert "Division 2" in asked.reader_question


def test_after_a_which_question_naming_something_they_means_the_answer_and_it_the_thing_named():
    team = {"question": "Which team is top of Division 2?", "answer": "Harbour Lions"}
    assert resolve("Who is their captain?", [team]).reader_question == "Who is Harbour Lions's captain?"
    tower = {"question": "Which city is the Eiffel Tower in?", "answer": "Paris"}
    assert resolve("How tall is it?", [tower]).reader_question == "How tall is the Eiffel Tower?"


@pytest.mark.parametrize("last, follow_up, expected", [
    ("What is the hotel limit in London?", "And in Paris?", "What is the hotel limit in Paris?"),
    ("What is the hotel limit in London?", "What about Paris?", "What is the hotel limit in Paris?"),
    ("How many days of leave were there in 2024?", "And in 2023?", "How many days of leave were there in 2023?"),
    ("When was Tern 3.1 released?", "What about Tern 4.0?", "When was Tern 4.0 released?"),
    ("What is the hotel limit in London?", "And what about Paris?", "What is the hotel limit in Paris?"),
    ("How many branches did Manchester count in May?", "And in June?", "How many branches did Manchester count in June?"),
    ("How much rain did Leeds record in March 2024?", "And in York?", "How much rain did York record in March 2024?"),
    ("What was revenue in 2023?", "And 2022?", "What was revenue in 2022?"),
    ("Who runs the London office?", "And in Paris?", "Who runs the Paris office?"),
    ("What changed in Tern 3.1?", "And Tern 3.2?", "What changed in Tern 3.2?"),
    # the follow-up's whole phrase, where the name ended the last question after the same word
    ("What is the hotel limit in London?", "And in the Paris office?", "What is the hotel limit in the Paris office?"),
    ("What is the hotel limit in London?", "What about the Paris office?",
     "What is the hotel limit in the Paris office?"),
    ("Who runs the London office?", "And in the Paris office?", "Who runs the Paris office?"),
    # a name and a year at once: both swapped, or the year added where the last question had none
    ("What is the hotel limit in London in 2024?", "And in Paris in 2023?", "What is the hotel limit in Paris in 2023?"),
    ("What is the hotel limit in London?", "And in Paris in 2023?", "What is the hotel limit in Paris in 2023?"),
    ("How many branches did Manchester count?", "And Leeds in June?", "How many branches did Leeds count in June?"),
    ("What is the hotel limit in London?", "And in the Paris office in 2023?",
     "What is the hotel limit in the Paris office in 2023?"),
    ("What is the hotel limit in London?", "What about the Paris office in June?",
     "What is the hotel limit in the Paris office in June?"),
    ("What is the hotel limit in London in 2024?", "And in the Paris office?",
     "What is the hotel limit in the Paris office in 2024?"),
    ("What is the hotel limit in London in 2024?", "And in the Paris office in 2023?",
     "What is the hotel limit in the Paris office in 2023?"),
    # a common noun phrase or a version after the last question's preposition, or the same one
    ("How hot should the oven be for the roast chicken?", "What about the banana bread?",
     "How hot should the oven be for the banana bread?"),
    ("Who is the manager of the sales team?", "What about the marketing team?",
     "Who is the manager of the marketing team?"),
    ("Can I keep a pet in the flat with a cat?", "And with a dog?", "Can I keep a pet in the flat with a dog?"),
    ("What was fixed in 2.3.1?", "And in 2.2.0?", "What was fixed in 2.2.0?"),
    ("Who is the CEO of Acme?", "And of Globex?", "Who is the CEO of Globex?"),
    # weekdays as plurals, swapped or added
    ("When does the café open on Sundays?", "And on Mondays?", "When does the café open on Mondays?"),
    ("What time does the pool open?", "And on Sundays?", "What time does the pool open on Sundays?"),
    ("What time does the pool open?", "And in August?", "What time does the pool open in August?"),
])
def test_and_in_paris_asks_the_last_question_again_of_the_new_name_or_year(last, follow_up, expected):
    from bot.conversation import Turn

    resolved = resolve(follow_up, [Turn(last, "an answer")])
    assert resolved.reader_question == resolved.retrieval_query == expected


def test_a_follow_up_asking_something_new_is_not_a_swap():
    from bot.conversation import Turn

    last = Turn("What is the hotel limit in London?", "GBP 180")
    assert "London" in resolve("And who approves it?", [last]).reader_question
    assert "London" in resolve("And for managers?", [last]).retrieval_query  # no name to swap in
    # a unit, an acronym, a month, a weekday: about London still
    for follow_up in ("And in EUR?", "And for the CEO?", "And in December?", "And on Sundays?"):
        assert "London" in resolve(follow_up, [last]).reader_question
    # a name of its own in another place: asked as it is, without London
    for follow_up in ("And the Meal Allowance?", "And at Christmas?", "And at the Paris office?"):
        resolved = resolve(follow_up, [last])
        assert resolved.reader_question == follow_up and "London" not in resolved.retrieval_query
        assert "hotel limit" in resolved.retrieval_query
    # a first name that is a month is still a name
    assert resolve("What does she do?", [Turn("When did April Ryan join?", "2019")]).reader_question \
        == "What does April Ryan do?"
    # a subject that is no proper name (a month) is not swapped either
    # a bare phrase, a filler or a phrase for a year's place swaps nothing
    for last_asked, follow_up in (("Do I need to submit the form?", "And also the receipts?"),
                                  ("What do I do after the alarm?", "And then?"),
                                  ("How many days of annual leave do I get in 2024?", "And sick leave?"),
                                  ("How many days of annual leave do I get in 2024?", "What about sick leave?")):
        assert resolve(follow_up, [Turn(last_asked, "x")]).reader_question.startswith(follow_up)
    assert "March" in resolve("And Sven?", [Turn("Who chaired the March meeting?", "Ana")]).reader_question


@pytest.mark.parametrize("last, follow_up, asked", [
    ("How much of the Kestrel budget had been spent in Week 10?", "And in Week 14?",
     "How much of the Kestrel budget had been spent in Week 14?"),   # not "the Week 14 budget"
    ("What was the status in week 10?", "And in week 14?", "What was the status in week 14?"),
    ("What is the noise level of the RX-300?", "And the RX-200?", "What is the noise level of the RX-200?"),
    ("Who owns risk R-09?", "And R-11?", "Who owns risk R-11?"),
    ("Is Windows 10 supported?", "What about Windows 11?", "Is Windows 11 supported?"),
    ("Who chaired the meeting on 1 April 2024?", "And in May?", "Who chaired the meeting on May 2024?"),
])
def test_a_follow_up_naming_another_of_a_numbered_series_or_another_month_swaps_that(last, follow_up, asked):
    assert resolve(follow_up, [last]).reader_question == asked



@pytest.mark.parametrize("last, answer, follow_up, asked", [
    ("Which company is based in Leeds?", "Acme Robotics", "When was it founded?", "When was Acme Robotics founded?"),
    ("Which company makes the Picker 3000?", "Acme Robotics", "Who is its chief executive?",
     "Who is Acme Robotics's chief executive?"),
    ("Which city is the Eiffel Tower in?", "Paris", "When was it built?", "When was the Eiffel Tower built?"),
])
def test_after_a_which_question_it_means_the_answer_where_the_answer_is_the_subject(last, answer, follow_up, asked):
    from bot.conversation import Turn

    assert resolve(follow_up, [Turn(last, answer)]).reader_question == asked


def test_an_academic_year_is_swapped_whole_and_a_who_asked_again_lends_its_answer():
    from bot.conversation import Turn

    director = Turn("Who was the Programme Director in 2025/26?", "Dr Nadia Iqbal")
    assert resolve("And in 2024/25?", [director]).reader_question == "Who was the Programme Director in 2024/25?"
    assert resolve("What about 2023-24?", [director]).reader_question == "Who was the Programme Director in 2023-24?"
    # "he" after a follow-up that asked "who" again is the name that follow-up was answered with
    again = Turn("And in 2024/25?", "Prof. Martin Cole")
    assert resolve("Which modules does he convene?", [director, again]).reader_question == \
        "Which modules does Prof. Martin Cole convene?"
    # asked again without an answer: "she" stays "she", never the year
    unanswered = Turn("And in 2024/25?", "")
    assert "2024/25 teach" not in resolve("What did she teach?", [director, unanswered]).reader_question


def test_it_in_capitals_is_an_acronym_and_a_turn_that_names_nothing_is_passed_over():
    from bot.conversation import Turn

    owner = Turn("Who owns the travel policy?", "Daniel Okafor")
    assert resolve("Who is the Head of IT?", [owner]).reader_question == "Who is the Head of IT?"
    assert resolve("What is it for?", [owner]).reader_question == "What is the travel policy for?"
    # a refused "Why?" in between names nothing: "it" is the subject of the turn before
    joined = [Turn("When did Morocco join the TSCTP?", "2005"), Turn("Why?", "")]
    assert resolve("What does it aim to do?", joined).reader_question == "What does the TSCTP aim to do?"
    paged = [Turn("Who was paged?", "Lena Vogel"), Turn("When was she paged?", "14:07"), Turn("By whom?", "")]
    assert resolve("What is her email?", paged).reader_question == "What is Lena Vogel's email?"
    # a "which" question answered with a name and the kind it asked for
    office = Turn("Which office opened in 2018?", "The Madrid office")
    assert resolve("Who manages it?", [office]).reader_question == "Who manages the Madrid office?"
    assert resolve("What is its budget?", [office]).reader_question == "What is the Madrid office's budget?"
    # a name alone asks the last question of it; a question word alone is no name, and asks of the
    # last question's subject
    limit = Turn("What is the hotel limit in London?", "EUR 200")
    assert resolve("Zurich?", [limit]).reader_question == "What is the hotel limit in Zurich?"
    assert resolve("Why?", [limit]).retrieval_query.endswith("hotel limit London")  # why of the last question
    assert resolve("Thanks?", [limit]).reader_question == "Thanks?"  # "Thanks!" as a chat turn reads it
    assert resolve("Parental leave?", [limit]).reader_question == "Parental leave?"
    # a question all in capitals still has its pronouns
    ceo = Turn("Who is the CEO of Acme?", "Jane Roe")
    assert resolve("WHAT IS HER EMAIL?", [ceo]).reader_question == "WHAT IS Jane Roe's EMAIL?"


def test_when_or_where_alone_asks_the_last_time_or_place_question_again_with_that_word():
    from bot.conversation import Turn

    assert resolve("When?", [Turn("Where is the AGM held?", "the clubhouse")]).reader_question \
        == "When is the AGM held?"
    assert resolve("And where?", [Turn("What time does the last ferry leave?", "21:10")]).reader_question \
        == "Where does the last ferry leave?"
    # through a follow-up resolved before it
    chain = [Turn("Where was Ada Lovelace born?", "London"), Turn("When did she die?", "1852")]
    assert resolve("Where?", chain).reader_question == "Where did Ada Lovelace die?"
    # another kind of question has no such place: "where" may ask where to buy the pass, so it is
    # asked of the same thing, as any follow-up
    assert resolve("Where?", [Turn("How much is the day pass?", "£8")]).reader_question == "Where? (day pass)"
    assert resolve("When?", [Turn("Who founded the museum?", "Ann Reid")]).reader_question == "When? (museum)"


@pytest.mark.parametrize("last, follow_up, asked", [
    ("How much is a bacon roll?", "And the carrot cake?", "How much is the carrot cake?"),
    ("How long does it take to get a replacement for a damaged item?", "And the refund?",
     "How long does it take to get the refund for a damaged item?"),
    ("When does the spring term end?", "And the summer term?", "When does the summer term end?"),  # "end" stays
    ("How much is a regular cappuccino?", "And a large one?", "How much is a large cappuccino?"),
    ("How much is a large Americano?", "What about a regular one?", "How much is a regular Americano?"),
    ("What is the price of a large Americano?", "And a regular one?", "What is the price of a regular Americano?"),
    ("What does a pot of tea cost?", "And a croissant?", "What does a croissant cost?"),
    ("How much is a cup of hot chocolate?", "And a scone?", "How much is a scone?"),
    # another detail of the same one, or a condition added
    ("What is the phone number of the Parking Services team?", "And their email?",
     "What is the email of the Parking Services team?"),
    ("What is Gareth Lewis's email?", "And his phone number?", "What is Gareth Lewis's phone number?"),
    ("How much is a large cappuccino?", "What about including VAT?", "How much is a large cappuccino including VAT?"),
    # a name has a subject of its own; a place the question was asked in is no subject
    ("What is the hotel limit in London?", "And the Meal Allowance?", "And the Meal Allowance?"),
    ("How much is adult membership at the leisure centre?", "And the joining fee?",
     "And the joining fee? (leisure centre)"),
])
def test_and_the_carrot_cake_asks_the_last_question_of_another_thing(last, follow_up, asked):
    from bot.conversation import Turn

    assert resolve(follow_up, [Turn(last, "an answer")]).reader_question == asked


def test_a_follow_up_after_one_about_another_thing_is_about_that_thing():
    from bot.conversation import Turn

    chain = [Turn("How much is the student annual membership?", "£249"), Turn("And the family one?", "£825")]
    assert resolve("How many children does it cover?", chain).reader_question \
        == "How many children does the family annual membership cover?"
    zones = [Turn("What are the permit hours in Zone A?", "08:00 to 18:30")]
    assert resolve("And in Zone D?", zones).reader_question == "What are the permit hours in Zone D?"
    ferries = [Turn("When does the last ferry leave on weekdays?", "19:05")]
    assert resolve("And at weekends?", ferries).reader_question == "When does the last ferry leave on weekends?"
    email = [Turn("What is Gareth Lewis's email?", "g.lewis@school.uk")]
    assert resolve("What is his phone number?", email).reader_question == "What is Gareth Lewis's phone number?"



def test_a_short_question_that_names_nothing_asks_about_the_last_one():
    from bot.conversation import Turn

    race = [Turn("When was the duck race?", "Sunday 12 June")]
    resolved = resolve("Who won?", race)
    assert resolved.subject == "duck race" and "duck race" in resolved.retrieval_query
    assert resolve("How often?", [Turn("How often should I test my smoke alarm?", "once a week")]).subject == \
        "smoke alarm"  # the noun after "my"
    assert resolve("Who is the chair?", race).reader_question == "Who is the chair?"  # it names its own
    # "I'm" is the asker, no name to swap
    weight = [Turn("What tyre pressure on the Trail 29 if I weigh 75 kg?", "1.8 bar")]
    assert "I'm" not in resolve("And if I'm 90 kg?", weight).subject


@pytest.mark.parametrize("last, follow_up, asked", [
    ("Who was elected chair at the 2023 AGM?", "And the treasurer?", "Who was elected treasurer at the 2023 AGM?"),
    ("Who was elected Chair in 2023?", "and Vice-Chair?", "Who was elected Vice-Chair in 2023?"),
    ("Who is the CEO of Acme?", "And the CFO?", "Who is the CFO of Acme?"),
    ("Who is the head of IT?", "And the deputy head?", "Who is the deputy head of IT?"),
])
def test_another_office_after_a_who_question_keeps_the_rest_of_it(last, follow_up, asked):
    from bot.conversation import Turn

    assert resolve(follow_up, [Turn(last, "Margaret Okafor")]).reader_question == asked


def test_an_office_follow_up_is_not_taken_for_a_name_or_a_new_question():
    from bot.conversation import Turn

    # a company, not an office; a new question; a year; a pronoun still means the holder
    assert "Globex of" not in resolve("And Globex?", [Turn("Who is the CEO of Acme?", "Jo Bell")]).reader_question
    assert resolve("And who else?", [Turn("Who is the CEO of Acme?", "Jo Bell")]).reader_question.startswith("And who")
    assert resolve("And in 2024?", [Turn("Who was elected Chair in 2023?", "Jo Bell")]).reader_question \
        == "Who was elected Chair in 2024?"
    assert resolve("And his email?", [Turn("Who is the CEO of Acme?", "Jo Bell")]).reader_question == "And Jo Bell's email?"
    # "responsible" is no office: no article or verb of choosing before it
    assert "responsible" not in resolve("And first aid?", [Turn("Who is responsible for fire safety?", "Jo Bell")]
                                        ).reader_question.split("?")[0]


def test_what_a_question_asks_for_is_not_its_subject():
    assert subject_of("How long is paternity leave?") == "paternity leave"
    assert subject_of("What time does breakfast club open?") == "breakfast club"
    assert subject_of("what's his extension") == "extension"


@pytest.mark.parametrize("history, follow_up, asked", [
    # a thing of the same kind said bare, where the last question said its subject bare
    (["How long is paternity leave?"], "And maternity leave?", "How long is maternity leave?"),
    # "How much is it?" in between is a question of its own, resolved: the next one leans on it
    (["What time does breakfast club open?", "How much is it?"], "And after-school club?",
     "How much is the after-school club?"),
    # a year swapped in by a follow-up is no subject: "it" is still the shop
    (["When is the shop open on Sundays?", "And on Saturdays?"], "Where is it?", "Where is the shop?"),
    # "that year": the one year the last question named
    (["Who was elected captain in 2022?"], "Where was the AGM held that year?", "Where was the AGM held in 2022?"),
    (["Who was elected captain in 2022?", "Where was the AGM held that year?"], "And in 2024?",
     "Where was the AGM held in 2024?"),
    # "there": in the place the last question asked about
    (["What is the office phone number in Bristol?"], "What is the address there?", "What is the address in Bristol?"),
])
def test_follow_ups_lean_on_the_question_as_it_was_resolved(history, follow_up, asked):
    assert resolve(follow_up, history).reader_question == asked


def test_her_as_an_object_and_a_question_of_its_own_after_and():
    from bot.conversation import Turn

    secretary = [Turn("Who was secretary of the club in 2022?", "Priya Natarajan")]
    assert resolve("Who took over from her?", secretary).reader_question == "Who took over from Priya Natarajan?"
    assert resolve("What is her email?", secretary).reader_question == "What is Priya Natarajan's email?"
    # a whole question after "and" is read as it is, with no subject added in brackets
    assert resolve("and who was captain in 2021?", secretary).reader_question == "and who was captain in 2021?"
    assert resolve("And who else?", secretary).reader_question != "And who else?"


def test_a_chain_of_follow_ups_reaches_back_past_three_turns():
    from bot.conversation import Turn

    chain = [Turn("Who was the head coach in 2022?", "Lionel Batty"), Turn("When did he retire?", "in July"),
             Turn("Who replaced him?", "Carla Mendes"), Turn("What is her email?", "")]
    assert resolve("When did she start?", chain).reader_question == "When did Carla Mendes start?"


@pytest.mark.parametrize("history, follow_up, asked", [
    # another office and another year at once
    (["Who was welfare officer in 2023?"], "and the secretary in 2024?", "Who was secretary in 2024?"),
    # a bare version in place of the one version the last question named
    (["What is the hydrostatic head of version 2.0?"], "And in 3.0?", "What is the hydrostatic head of version 3.0?"),
    # "Zurich?" alone was a follow-up too: "there" is Zurich
    # ... and the follow-up, which asks nothing of its own, is asked as the last question was
    (["What is the hotel limit in London?", "Zurich?"], "And the meal allowance there?",
     "What is the meal allowance in Zurich?"),
])
def test_offices_with_years_versions_alone_and_there_after_a_bare_name(history, follow_up, asked):
    assert resolve(follow_up, history).reader_question == asked


def test_an_office_said_bare_is_swapped_only_for_one_said_with_its_article():
    assert resolve("And the caretaker?", ["Who is head teacher at Oakfield?"]).reader_question \
        == "Who is caretaker at Oakfield?"
    assert resolve("And first aid?", ["Who is responsible for fire safety?"]).reader_question \
        == "And first aid? (responsible)"


def test_another_thing_asked_of_the_same_name():
    assert resolve("And expenditure?", ["What total income did Ann Lee report at the 2022 AGM?"]).reader_question \
        == "What total expenditure did Ann Lee report at the 2022 AGM?"
    assert resolve("and email?", ["What phone number does Acme list?"]).reader_question == "What email does Acme list?"
    # other people in the place of those the last question named: who gets it, not what
    assert resolve("And students?", ["What discount do members get?"]).reader_question == \
        "What discount do students get?"
    assert resolve("And in 2024?", ["What total income was reported in 2023?"]).reader_question \
        == "What total income was reported in 2024?"


def test_another_thing_priced_at_the_same_name_and_the_same_thing_for_other_people():
    last = ["How much is a private white filling at Riverside Dental?"]
    assert resolve("And root canal?", last).reader_question == "How much is a root canal at Riverside Dental?"
    assert resolve("And children?", last).reader_question == "How much is a private white filling at Riverside Dental for children?"
    assert resolve("And the kitchen?", ["How much does the Committee Room at Ashcombe Hall cost on a Sunday?"]) \
        .reader_question == "How much does the kitchen at Ashcombe Hall cost on a Sunday?"
    # a name with no article is the subject itself, not a thing priced at it
    assert resolve("And basic?", ["How much is Netflix Premium in the UK?"]).reader_question != \
        "How much is basic in the UK?"


def test_which_and_a_kind_alone_asks_it_of_the_last_questions_subject():
    assert resolve("Which room?", ["When is the summer concert?"]).reader_question == "Which room? (summer concert)"
    assert resolve("and who was captain in 2022?", ["Who was captain in 2021?"]).reader_question \
        == "and who was captain in 2022?"


@pytest.mark.parametrize("history, follow_up, asked", [
    (["How many parcels were given out in 2023-24?"], "And the year before?", "How many parcels were given out in 2022-23?"),
    (["Who chaired the choir in 2023–24?"], "and the year after?", "Who chaired the choir in 2024–25?"),
    (["Who was treasurer in 2022?"], "And the following year?", "Who was treasurer in 2023?"),
    # "then" at the end is the year the last question asked about
    (["How many households were members in 2023?", "And in 2024?"], "How much was the subscription then?",
     "How much was the subscription in 2024?"),
])
def test_a_year_counted_from_the_last_questions_and_then_for_its_year(history, follow_up, asked):
    assert resolve(follow_up, history).reader_question == asked


def test_then_with_no_year_before_is_left_as_it_is():
    assert "then" in resolve("what is it then?", ["How much is a latte?"]).reader_question


def test_it_is_the_thing_counted_or_the_thing_asked_about_at_a_named_place():
    assert resolve("Who gave it?", ["How much grant income did the Residents' Association get in 2023?"]) \
        .reader_question == "Who gave the grant income?"
    assert resolve("How much is it?", ["What does a full service at Spokes & Sprockets include?"]) \
        .reader_question == "How much is the full service?"
    # a thing in a place is still asked of the place's name
    assert "London" in resolve("And who approves it?", ["What is the hotel limit in London?"]).reader_question


@pytest.mark.parametrize("last, follow_up, asked", [
    ("How much was the adult subscription in 2024?", "And for juniors?", "How much was the junior subscription in 2024?"),
    ("What discount do students get?", "And Ramblers members?", "What discount do Ramblers members get?"),
    ("How much is an adult ticket?", "and children?", "How much is a child ticket?"),
    ("How much does it cost for children?", "and adults?", "How much does it cost for adults?"),
])
def test_other_people_take_the_place_of_those_the_last_question_named(last, follow_up, asked):
    assert resolve(follow_up, [last]).reader_question == asked


def test_other_people_after_a_question_naming_none_are_not_swapped_in():
    assert resolve("And for students?", ["How much are subs?"]).reader_question == "And for students? (subs)"


@pytest.mark.parametrize("history, follow_up, asked", [
    # a thing of the kind a name of the last question is takes that name's place, not the place's
    (["How much is the Main Hall at Ashcombe Village Hall per hour on a Saturday?"], "What about the small hall?",
     "How much is the small hall at Ashcombe Village Hall per hour on a Saturday?"),
    (["How much does the Committee Room at Ashcombe Village Hall cost on a Sunday?"], "Room B?",
     "How much does Room B at Ashcombe Village Hall cost on a Sunday?"),
    (["How much does the Committee Room at Ashcombe Village Hall cost on a Sunday?", "Room B?"], "And the kitchen?",
     "How much does the kitchen at Ashcombe Village Hall cost on a Sunday?"),
    # a day with the part of it said, in place of the day
    (["How much is the Main Hall per hour on a Saturday?"], "And on weekday evenings?",
     "How much is the Main Hall per hour on weekday evenings?"),
    (["How much is the Main Hall per hour on a Saturday?"], "And on Sundays?", "How much is the Main Hall per hour on Sundays?"),
    # a day of its own name is one day, swapped whole both ways
    (["What are Riverside Dental's opening hours on Saturdays?"], "What about Easter Monday?",
     "What are Riverside Dental's opening hours on Easter Monday?"),
    (["What are Riverside Dental's opening hours on Saturdays?", "What about Easter Monday?"], "Sunday?",
     "What are Riverside Dental's opening hours on Sunday?"),
])
def test_a_thing_of_the_same_kind_and_a_part_of_a_day_take_their_place(history, follow_up, asked):
    assert resolve(follow_up, history).reader_question == asked


def test_a_thing_is_not_put_in_the_place_of_a_day():
    asked = resolve("What about the lounge?", ["How much is the bar on a Saturday?"]).reader_question
    assert "on the lounge" not in asked


def _turns(*pairs):
    return [{"question": q, "answer": a} for q, a in pairs]


def test_he_or_she_again_is_the_person_the_last_question_called_so():
    # the same word again: still the treasurer, not the person who proposed her
    history = _turns(("Who was treasurer in 2024?", "Funmi Adeyemi"), ("Who proposed her?", "Declan Hughes"))
    assert resolve("What's her email?", history).reader_question == "What's Funmi Adeyemi's email?"
    # the other word: the one the last question was answered with
    history = _turns(("Who was the head coach in 2022?", "Lionel Batty"), ("When did he retire?", "in 2023"),
                     ("Who replaced him?", "Carla Mendes"))
    assert resolve("When did she start?", history).reader_question == "When did Carla Mendes start?"


def test_she_never_stands_for_the_man_called_he_nor_for_a_thing():
    history = _turns(("Who was the head coach in 2022?", "Lionel Batty"), ("When did he retire?", "in 2023"),
                     ("Who replaced him?", "the committee"))
    unclear = resolve("What is her email?", history)
    assert unclear.reader_question == "What is her email?" and "“her”" in unclear.unclear
    history.append({"question": "What is her email?", "answer": ""})
    assert resolve("When did she start?", history).reader_question == "When did she start?"  # not "the email"


def test_he_or_she_is_asked_back_where_it_could_stand_only_for_many():
    history = _turns(("How much is a children's examination?", "£30"), ("Which dentist sees the children?", ""))
    unclear = resolve("What days is she in?", history)
    assert unclear.reader_question == "What days is she in?" and "“she”" in unclear.unclear
    # one person of a role is "she"; many of them are "they"
    history = _turns(("Who is the welfare officer?", ""))
    assert not resolve("What is her phone number?", history).unclear
    history = _turns(("What must the coaches do?", "renew their DBS checks"))
    assert resolve("When must they do it?", history).unclear == ""


def test_verbs_of_leaving_end_the_subject_taken_from_a_question():
    history = _turns(("When did the head coach retire?", "2023"))
    assert resolve("Why did he leave?", history).reader_question == "Why did the head coach leave?"


def test_he_after_a_person_named_for_an_office_is_that_person():
    history = _turns(("What is the HR Manager's extension?", "214"), ("And the Finance Manager?", "Rajesh Mehta"))
    assert resolve("What's his extension?", history).reader_question == "What's Rajesh Mehta's extension?"
    # a title answered about a person by name: "he" is still the person
    history = _turns(("Which film did Steven Spielberg direct in 1993?", "Jurassic Park"))
    assert "Steven Spielberg" in resolve("How old was he then?", history).reader_question


def test_a_follow_up_naming_its_own_year_or_name_is_searched_for_alone():
    history = _turns(("Who was secretary in 2022?", "Priya Natarajan"), ("Who took over from her?", "Hamid Qureshi"))
    asked = resolve("and who was captain in 2022?", history)
    assert asked.reader_question == asked.retrieval_query == "and who was captain in 2022?"
    # but "one" stands for what the last question asked about
    assert "food bank" in resolve("Is there one in Ashcombe?", _turns(("Where is the food bank?", "Elmford"))) \
        .retrieval_query


def test_why_not_asks_against_the_last_answer_and_a_year_after_it_is_the_last_but_ones():
    history = _turns(("Where was the residents' association AGM held in 2024?", "Hollybrook Library"))
    asked = resolve("Why not the church hall?", history)
    assert asked.reader_question == "Why not the church hall?" and "AGM" in asked.retrieval_query
    history.append({"question": "Why not the church hall?", "answer": "roof repairs"})
    assert resolve("And in 2022?", history).reader_question == \
        "Where was the residents' association AGM held in 2022?"


def test_only_a_what_is_question_lends_its_frame_to_a_follow_up_that_asks_nothing():
    history = _turns(("Who is the HR manager?", "Tom Lee"))
    assert resolve("And his email?", history).reader_question == "And Tom Lee's email?"


def test_a_second_rank_said_alone_is_of_the_last_office():
    assert resolve("And the deputy?", ["Who is the headteacher at Oakfield?"]).reader_question == \
        "Who is the deputy headteacher at Oakfield?"
