from bot.read.qualifiers import DocumentFacts
from bot.read.reading_order import reading_order
from bot.types import Chunk, Passage


def _passages(*texts_and_sections: tuple[str, str]) -> list[Passage]:
    return [Passage(Chunk(n, "CHANGES.txt", text, 0, len(text), section, 1, None, ((0, len(text)),)),
                    score=-n, rank=n + 1)
            for n, (text, section) in enumerate(texts_and_sections)]


_RELEASES = _passages(("Ferrule 2.0 is the first major release since 1.0.", "Upgrading"),
                      ("1.0.0 (2021-03-15)\n  * First stable release.", "1.0.0 (2021-03-15)"),
                      ("Releases are numbered major.minor.patch.", "Numbering"),
                      ("2.0.0 (2023-02-28)\n  * The BoltDB backend is removed.", "2.0.0 (2023-02-28)"),
                      ("1.4.2 (2022-07-08)\n  * Security fix.", "1.4.2 (2022-07-08)"))


def _docs(passages: list[Passage]) -> list[str]:
    return [p.chunk.section for p in passages]


def test_a_passage_naming_the_asked_version_is_read_in_place_of_one_that_does_not():
    ordered = reading_order("when was 2.0.0 released", _RELEASES, 3, DocumentFacts())
    # "2.0" is the version "2.0.0" (trailing zeros aside): the upgrade note stays read; of the
    # two that do not name it, the lower leaves the three read ones
    assert _docs(ordered[:3]) == ["Upgrading", "1.0.0 (2021-03-15)", "2.0.0 (2023-02-28)"]
    assert sorted(_docs(ordered)) == sorted(_docs(_RELEASES))  # nothing lost, only moved
    assert [p.rank for p in ordered] == [1, 2, 3, 4, 5]


def test_the_order_stays_where_the_read_passages_name_it_or_none_further_down_does():
    facts = DocumentFacts()
    assert reading_order("what was fixed in 2.0", _RELEASES, 3, facts) is _RELEASES  # the first names it
    assert reading_order("when was 3.1.0 released", _RELEASES, 3, facts) is _RELEASES  # none names it
    # years are left to the ranking: a passage names the years of its story, not only its own
    assert reading_order("what was removed in 2023", _RELEASES, 3, facts) is _RELEASES
    assert reading_order("when was 1.4.2 released", _RELEASES, 5, facts) is _RELEASES  # all are read
