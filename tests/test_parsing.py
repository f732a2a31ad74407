import pytest

from bot.ingest.chunking import chunk_document
from bot.ingest.corpus import load_document
from bot.ingest.html import parse_html
from bot.ingest.markdown import parse_markdown, render_markdown_inline
from bot.ingest.plain_text import parse_plain
from tests.conftest import load_corpus


def test_markdown_links_emphasis_and_code_render_as_text():
    assert render_markdown_inline("See [the report](http://x.org/a_(b)) and **bold** `code` *em*.") == \
        "See the report and bold code em."
    assert render_markdown_inline("![a chart](c.png) <b>tag</b> snake_case_name") == "a chart tag snake_case_name"


def test_markdown_headings_become_sections_and_bullets_lose_markers():
    parsed = parse_markdown("# Title\n\nIntro text.\n\n## Part *two*\n\n- item one\n* item two\n1. item three\n")
    lines = parsed.text.split("\n")
    assert "item one" in lines and "item two" in lines and "1. item three" in lines
    assert [h for _, h in parsed.headings] == ["Title", "Part two"]
    assert parsed.title == "Title"
    # every text line maps to its source line
    assert len(parsed.line_starts) == len(parsed.source_lines) == len(lines)
    assert lines[parsed.source_lines.index(7) if 7 in parsed.source_lines else 0] == "item one"


def test_plain_short_standalone_lines_are_headings():
    parsed = parse_plain("Report Title\n\nA sentence here.\n\nFindings\n\nMore text. Even more.\n\n"
                         "Corresponding author: H. Petersen, hjp@example.org\n\nSee https://example.org/data\n")
    assert [h for _, h in parsed.headings] == ["Report Title", "Findings"]  # an address is no heading


def test_a_plain_line_over_an_indented_block_heads_it():
    parsed = parse_plain("Dates for parents.\n\nSpring Term 2025\n  Term starts: Monday 6 January 2025\n"
                         "  Term ends: Friday 4 April 2025\n\n1. An item with a hanging\n   indent that goes on\n")
    assert [h for _, h in parsed.headings] == ["Spring Term 2025"]  # the hanging indent continues its item


def test_html_keeps_visible_text_drops_scripts_and_records_lines():
    html = ("<html><head><title>Doc T</title><style>p{}</style></head><body>\n"
            "<h1>Heading &amp; more</h1>\n<p>Para <a href='#'>one</a>.</p>\n"
            "<script>alert(1)</script>\n<ul><li>first</li><li>second</li></ul></body></html>")
    parsed = parse_html(html)
    assert "alert" not in parsed.text and "p{}" not in parsed.text
    assert parsed.text.split("\n") == ["Heading & more", "Para one.", "first", "second"]
    assert parsed.title == "Doc T"
    assert parsed.headings == [(0, "Heading & more")]
    assert parsed.source_lines[1] == 3


def test_a_page_s_navigation_is_left_out_and_the_lines_after_it_keep_their_numbers():
    html = ("<body><nav class='menu'>\n<a href='/'>Home</a> |\n<a href='/r'>Recipes</a>\n</nav>\n"
            "<h1>Roast chicken</h1>\n<p>Heat the oven to 200°C.</p>\n<NAV><nav>Next</nav> | Back</NAV>\n"
            "<footer>Contact: cook@example.org</footer></body>")
    parsed = parse_html(html)
    assert parsed.text.split("\n") == ["Roast chicken", "Heat the oven to 200°C.", "Contact: cook@example.org"]
    assert parsed.source_lines[:2] == [5, 6]
    # a <nav> never closed may hold the page's content in a broken page: it stays
    broken = parse_html("<body><nav>Menu</nav><nav>\n<h1>Title</h1><p>All the content</p>")
    assert broken.text.split("\n") == ["Title", "All the content"]


# ----- line numbers -----

# str.splitlines() breaks lines at each of these; an editor (and a citation) does not.
NOT_LINE_BREAKS = ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("separator", NOT_LINE_BREAKS, ids=[f"U+{ord(c):04X}" for c in NOT_LINE_BREAKS])
@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_line_numbers_count_only_real_line_breaks(tmp_path, separator, suffix):
    path = tmp_path / f"pages{suffix}"
    content = (f"Page one ends here.{separator}Page two starts.\n"
               f"Second line.{separator}{separator}\n"
               "The answer 1894 is on line three.\n")
    path.write_bytes(content.encode("utf-8"))
    doc = load_document(path, path.name)
    chunk = next(c for c in chunk_document(doc, 600, 150) if "1894" in c.text)
    assert chunk.line_at(doc.text.index("1894")) == 3
    assert doc.line_at(doc.text.index("Second")) == 2


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_real_line_breaks_still_count(newline):
    parsed = parse_plain(newline.join(["First.", "", "Third line."]) + newline)
    assert parsed.text.split("\n") == ["First.", "", "Third line."]
    assert parsed.source_lines == [1, 2, 3]


# ----- HTML -----

def test_html_text_maps_to_the_line_it_is_on_inside_a_block(tmp_path):
    path = tmp_path / "bridges.html"
    path.write_text("<html><body>\n<p>The bridge is old.\n  It opened in\n  <b>1894</b> to traffic.\n</p>\n"
                    "<ul><li>One\nTwo</li></ul></body></html>\n", encoding="utf-8")
    doc = load_document(path, path.name)
    assert doc.text.split("\n") == ["The bridge is old. It opened in 1894 to traffic.", "One Two"]
    chunk = chunk_document(doc, 600, 150)[0]
    assert chunk.line_at(doc.text.index("The bridge")) == 2
    assert chunk.line_at(doc.text.index("It opened")) == 3
    assert chunk.line_at(doc.text.index("1894")) == 4
    assert chunk.line_at(doc.text.index("Two")) == 7


@pytest.mark.parametrize("head", [
    "<html><head><title>T</title><body><p>The lamp was lit in 1921.</p>",
    "<html><head><title>T</title><meta charset=utf-8><p>The lamp was lit in 1921.",
    "<!doctype html><head><title>T</title>The lamp was lit in 1921.",
], ids=["body-tag", "p-tag", "bare-text"])
def test_html5_head_ends_without_its_end_tag(tmp_path, head):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "lamp.html").write_text(head, encoding="utf-8")
    doc = load_corpus(corpus).documents[0]
    assert doc.text == "The lamp was lit in 1921."
    assert doc.title == "T"


def test_html_head_content_stays_hidden():
    parsed = parse_html("<html><head><title>T</title><style>p{}</style><script>x()</script>"
                        "<meta name=a content=b></head><body><p>Body.</p></body></html>")
    assert parsed.text == "Body."


# ----- Markdown code fences -----

@pytest.mark.parametrize("fence,inner", [("```", "~~~"), ("~~~", "```"), ("````", "```"), ("~~~~", "~~~")])
def test_code_fence_closes_only_with_the_same_fence(fence, inner):
    parsed = parse_markdown(f"# Setup\n\n{fence}\nrun this\n{inner}\nstill code\n{fence}\n\n## Usage\n\nCall it.\n")
    assert [h for _, h in parsed.headings] == ["Setup", "Usage"]
    lines = parsed.text.split("\n")
    assert lines[parsed.source_lines.index(5)] == inner  # the inner fence line is code, kept as text
    assert "still code" in lines


def test_code_fence_with_info_string_and_longer_closer():
    parsed = parse_markdown("```python\n# not a heading\n````\n# Real heading\n")
    assert [h for _, h in parsed.headings] == ["Real heading"]
    assert "# not a heading" in parsed.text.split("\n")


def test_markdown_table_rows_read_as_sentences_with_their_column_names():
    parsed = parse_markdown("| Plan | Monthly fee | Joining fee |\n|:--|--:|---|\n| Basic | £10 | £5 |\n"
                            "| **Plus** | £25 | |\n\n| a | b |\n| c | d |\n")
    lines = parsed.text.split("\n")
    assert "Basic — Monthly fee: £10; Joining fee: £5." in lines
    assert "Plus — Monthly fee: £25." in lines  # an empty cell is left out
    assert "a; b." in lines and "c; d." in lines  # no header row: cells in order
    assert parsed.source_lines[lines.index("Basic — Monthly fee: £10; Joining fee: £5.")] == 3


def test_plain_text_tables_cut_by_tabs_or_lined_up_with_spaces_read_as_rows():
    parsed = parse_plain("Permit fees\n\n"
                         "Permit type          2024/25    2025/26\n"
                         "First permit         £72        £80\n"
                         "Second permit        £125       £140\n\n"
                         "Plan\tMonthly fee\tJoining fee\nAdult\t£38.50\t£25\nStudent\t£24.00\tnone\n\n"
                         "Zone   Days                 Hours\n"
                         "-----  -------------------  --------------\n"
                         "A      Monday to Saturday   08:00 to 18:30\n"
                         "B      Monday to Friday     09:00 to 17:00\n")
    lines = parsed.text.split("\n")
    assert "Second permit — 2024/25: £125; 2025/26: £140." in lines
    assert "Student — Monthly fee: £24.00; Joining fee: none." in lines
    assert "B — Days: Monday to Friday; Hours: 09:00 to 17:00." in lines  # a header over a rule
    assert parsed.source_lines[lines.index("Second permit — 2024/25: £125; 2025/26: £140.")] == 5
    assert "Permit type" not in parsed.text and "-----" not in parsed.text


def test_a_tab_table_with_an_empty_corner_is_a_table():
    parsed = parse_plain("Opening times\n\n\tMonday\tTuesday\tWednesday\nPool\t07:00\t08:00\t09:00\n"
                         "Gym\t06:00\t06:30\t07:00\n")
    assert "Gym — Monday: 06:00; Tuesday: 06:30; Wednesday: 07:00." in parsed.text.split("\n")


def test_a_header_may_hold_figures_in_brackets_and_one_name_counting_in_words():
    parsed = parse_plain("Leftovers\n\nFood              Fridge (0-5 °C)   Freezer (-18 °C)\n"
                         "Cooked chicken    2 days            3 months\n"
                         "Chicken curry     3 days            6 months\n\n"
                         "Age              Dose      How often in 24 hours\n"
                         "3 - 6 months     2.5 ml    3 times\n6 - 12 months    5 ml      4 times\n")
    lines = parsed.text.split("\n")
    assert "Chicken curry — Fridge (0-5 °C): 3 days; Freezer (-18 °C): 6 months." in lines
    assert "6 - 12 months — Dose: 5 ml; How often in 24 hours: 4 times." in lines
    # two names counting in words are more likely a row of values than a header
    rows = parse_plain("Paracetamol   Every 4 to 6 hours   Up to 4 doses a day\nIbuprofen     6 hours   3 doses\n")
    assert "Every 4 to 6 hours:" not in rows.text


def test_a_long_list_of_aligned_fields_is_kept_as_written_and_read_once():
    fields = "\n".join(f"Item {i}      value {i}" for i in range(2000))  # each run looked at once, not per line
    assert parse_plain(fields).text == fields


def test_plain_text_that_only_looks_like_a_table_is_kept_as_written():
    text = ("Phone:      0300 123 7788\nEmail:      parking@example.org\nOpen:       Monday to Friday\n\n"
            "The hall opens at 9.  Doors close at 5.\nBring a coat.  It gets cold in the evening.\n"
            "No dogs.  Assistance dogs are welcome.\n")
    assert parse_plain(text).text == text.rstrip("\n")


def test_html_table_rows_keep_their_cells_together():
    parsed = parse_html("<table><caption>Volcanoes</caption><tr><th>Volcano</th><th>Height</th></tr>\n"
                        "<tr><td>Etna</td><td>3,357 m</td></tr>\n<tr><th>Stromboli</th><td>924<br>m</td></tr>\n"
                        "</table><p>After.</p>")
    assert parsed.text.split("\n") == ["Volcanoes", "Etna — Height: 3,357 m.", "Stromboli — Height: 924 m.",
                                        "After."]


def test_html_tables_left_open_at_the_end_keep_their_last_row():
    assert parse_html("<table><tr><td>Ann<td>31<tr><td>Bob<td>45").text.split("\n") == ["Ann: 31.", "Bob: 45."]
    # Nested tables left open read as if closed: the innermost first
    closed = "<p>Ages</p><table><tr><td>Ann<td><table><tr><td>31<td>years</table></table>"
    assert parse_html(closed.removesuffix("</table></table>")).text == parse_html(closed).text


def test_html_pre_keeps_its_line_breaks_and_indentation():
    page = "<p>Run:</p>\n<pre>\nmake build\n  --jobs <b>4</b>   \n\nmake test</pre>\n<p>After.</p>\n"
    parsed = parse_html(page)
    assert parsed.text.split("\n") == ["Run:", "make build", "  --jobs 4", "make test", "After."]
    assert parsed.source_lines == [1, 3, 4, 6, 7]
    # In a table cell a <pre> stays in its row
    assert parse_html("<table><tr><td><pre>a\nb</pre><td>c</table>").text == "a b; c."


def test_markdown_entities_footnotes_comments_and_scripts():
    parsed = parse_markdown("Sync every 15&nbsp;minutes &amp; more.[^1]\n\n[^1]: Measured by Clifford Paine.\n\n"
                            "<!-- internal: the launch code is 4471 -->\nBefore <!-- a\nnote --> after.\n"
                            "<script>alert(1)</script>\n<style>\np {}\n</style>\nEnd.\n")
    text = parsed.text
    assert "Sync every 15\xa0minutes & more." in text and "Measured by Clifford Paine." in text
    assert "4471" not in text and "note" not in text and "alert" not in text and "p {}" not in text
    assert "Before" in text and "after." in text and "End." in text
    assert not parsed.headings  # a footnoted sentence is not a heading


def test_markdown_code_spans_escapes_and_addresses_stay_as_written():
    assert render_markdown_inline("Use the `<br>` tag in `List<String>`") == "Use the <br> tag in List<String>"
    assert render_markdown_inline(r"\*not\* emphasis, **bold**") == "*not* emphasis, bold"
    assert render_markdown_inline("Write to <help@example.com>.") == "Write to help@example.com."


def test_markdown_heading_forms_and_front_matter():
    parsed = parse_markdown('---\ntitle: "Dev Guide"\n---\n\n# Learn C#\n\nText.\n\nSubtitle\n--------\n\nBody.\n')
    assert parsed.title == "Dev Guide" and "title:" not in parsed.text
    assert [h for _, h in parsed.headings] == ["Learn C#", "Subtitle"]
    assert "--------" not in parsed.text


def test_plain_text_sentence_ending_in_a_quote_is_not_a_heading():
    parsed = parse_plain('Intro.\n\nThe mayor said "We will rebuild the pier."\n\nMore text.\n')
    assert parsed.headings == []


def test_an_svg_title_is_not_the_page_title():
    parsed = parse_html("<html><head><title>Annual Report</title></head><body><svg><title>Close</title></svg>"
                        "<svg><title>x</svg><p>Body text.</p></body></html>")
    assert parsed.title == "Annual Report" and "Body text." in parsed.text


def test_ordered_list_items_keep_their_numbers_as_a_viewer_shows_them():
    """"What is the first step?" needs the step's number; bullets carry no meaning and go."""
    markdown = parse_markdown("# Brewing\n\n1. Fill the tank.\n1. Add coffee.\n   - medium grind\n1. Press BREW.\n\n"
                              "Then wait.\n\n3) Third\n- a bullet\n")
    assert markdown.text.split("\n") == ["Brewing", "", "1. Fill the tank.", "2. Add coffee.", "medium grind",
                                         "3. Press BREW.", "", "Then wait.", "", "3. Third", "a bullet"]
    html = parse_html('<ol><li>Fill the tank.</li><li>Add <b>coffee</b>.<ul><li>medium grind</li></ul></li>'
                      '<li value="7">Press BREW.</li></ol><ol start="4"><li>Four</li></ol><ul><li>dot</li></ul>')
    assert html.text.split("\n") == ["1. Fill the tank.", "2. Add coffee.", "medium grind", "7. Press BREW.",
                                     "4. Four", "dot"]


def test_list_numbers_follow_the_lists_own_attributes():
    html = parse_html('<ol type="a"><li>x</li><li>y</li></ol><ol type="I" start="3"><li>p</li><li>q</li></ol>'
                      '<ol reversed start="3"><li>t</li><li>u</li></ol><ol reversed><li>r</li></ol>')
    assert html.text.split("\n") == ["a. x", "b. y", "III. p", "IV. q", "3. t", "2. u", "r"]
    # a code block or a table between two lists ends the first one
    markdown = parse_markdown("1. one\n1. two\n\n```\ncode\n```\n\n1. again\n")
    assert [line for line in markdown.text.split("\n") if line.endswith(("one", "two", "again"))] == \
        ["1. one", "2. two", "1. again"]


def test_html_table_cells_spanning_columns_or_rows_keep_their_columns():
    parsed = parse_html("<table><tr><th>Ticket</th><th>Adult</th><th>Child</th><th>Bicycle</th></tr>"
                        "<tr><th scope=row>Single</th><td colspan=2>£12 flat fare</td><td>£3</td></tr>"
                        "<tr><th scope=row rowspan=2>Season</th><td>£280</td><td>£140</td><td>free</td></tr>"
                        "<tr><td>£300 (paper)</td><td>£150</td><td>£20</td></tr></table>")
    assert parsed.text.split("\n") == ["Single — Adult, Child: £12 flat fare; Bicycle: £3.",
                                       "Season — Adult: £280; Child: £140; Bicycle: free.",
                                       "Season — Adult: £300 (paper); Child: £150; Bicycle: £20."]


def test_a_section_is_named_with_the_headings_above_it():
    """"Fixed" alone says little; under "[3.2.0] - 2024-05-02" it says which release. A lone top
    heading is the document's title and stays out of the names."""
    changelog = parse_markdown("# Changelog\n\n## [3.2.0] - 2024-05-02\n\n### Added\n\n- retries\n\n"
                               "### Fixed\n\n- a leak\n\n## [3.1.0]\n\n### Fixed\n\n- a crash\n")
    assert [h for _, h in changelog.headings] == ["Changelog", "[3.2.0] - 2024-05-02", "[3.2.0] - 2024-05-02 › Added",
                                                  "[3.2.0] - 2024-05-02 › Fixed", "[3.1.0]", "[3.1.0] › Fixed"]
    page = parse_html("<h2>Fees</h2><p>Monthly.</p><h3>Late fees</h3><p>£10.</p><h2>Rules</h2><p>No pets.</p>")
    assert [h for _, h in page.headings] == ["Fees", "Fees › Late fees", "Rules"]
    assert [h for _, h in parse_plain("Report\n\nText here.\n\nFindings\n\nMore.\n").headings] == ["Report", "Findings"]


def test_plain_text_drops_quote_marks_and_contents_lines_but_keeps_line_numbers():
    text = ("Table of Contents\n\n1. Introduction ........ 2\n3. Timers ............ 3\n\n"
            "On Tuesday Priya wrote:\n> The budget is GBP 18,500.\n>> It includes insurance.\n")
    parsed = parse_plain(text)
    lines = parsed.text.split("\n")
    assert "1. Introduction ........ 2" not in parsed.text and "Timers" not in parsed.text
    assert lines[6:] == ["The budget is GBP 18,500.", "It includes insurance."]
    import bisect

    line = bisect.bisect_right(parsed.line_starts, parsed.text.index("It includes")) - 1
    assert parsed.source_lines[line] == 8  # cited at its own line of the file


def test_an_e_mail_is_called_by_its_subject_and_a_quoted_sign_off_is_no_heading():
    text = ("From: Declan Moorcroft\nSubject: Re: Fwd: Offsite venue for Q3 planning\n\nHi all,\n\n"
            "The offsite is on 17-18 July.\n\nOn Mon, 7 Apr 2025, Nadia wrote:\n> Thanks for the quotes.\n>\n"
            "> Nadia\n>\n> Booking Manager\n")
    parsed = parse_plain(text)
    assert parsed.title == "Offsite venue for Q3 planning"
    assert [h for _, h in parsed.headings] == []


def test_plain_text_numbered_headings_have_levels_but_loose_numbered_lists_do_not():
    text = ("1.  Introduction\n\nWhy clocks drift.\n\n2.  Terminology\n\n2.1.  Requirements Language\n\n"
            "Words as usual.\n\n3. Steps\n\n1. Preheat the oven\n\n2. Mix the flour\n\n3. Bake it\n")
    names = [h for _, h in parse_plain(text).headings]
    assert names == ["1. Introduction", "2. Terminology", "2. Terminology › 2.1. Requirements Language", "3. Steps"]


def test_plain_text_page_furniture_is_dropped_and_a_sentence_reads_on_across_the_break():
    page = "Smith                         Informational                     [Page {n}]\n" \
           "\fRFC 9999                     Gadget Protocol                March 2024\n"
    text = ("1.  Introduction\n\nThe protocol was published after a long review by the\n\n" + page.format(n=1)
            + "\ncommittee in 2024.\n\n2.  Terminology\n\nWords as usual.\n\n" + page.format(n=2)
            + "\n3.  Format\n\nA header.\n\nPage 3 of 12\n")
    parsed = parse_plain(text)
    assert "Informational" not in parsed.text and "Gadget Protocol" not in parsed.text and "Page 3" not in parsed.text
    assert "long review by the\ncommittee in 2024." in parsed.text
    assert [h for _, h in parsed.headings] == ["1. Introduction", "2. Terminology", "3. Format"]
    import bisect

    line = bisect.bisect_right(parsed.line_starts, parsed.text.index("committee")) - 1
    assert parsed.source_lines[line] == 8  # still cited at its own line of the file
    # form feeds number the pages: "committee" is on page 2, "3.  Format" on page 3
    page_of = [bisect.bisect_right(parsed.page_starts, parsed.text.index(w)) for w in ("long review", "committee", "Format")]
    assert page_of == [1, 2, 3]


def test_plain_text_keeps_numbers_and_repeated_lines_that_are_not_page_furniture():
    text = "Totals\n\n42\n\nRepeat this line.\n\nRepeat this line.\n\nRepeat this line.\n\nSee pages 3 of the annex.\n"
    parsed = parse_plain(text)
    assert parsed.text.count("Repeat this line.") == 3 and "\n42\n" in parsed.text
    # without form feeds there are no page edges: "3 of 4" and "See [Page 3]" are the text's own
    assert parse_plain("Score\n\n3 of 4\n\n1/2\n\nSee [Page 3]\n").text == "Score\n\n3 of 4\n\n1/2\n\nSee [Page 3]"
    # a sentence that closes every page is content; a title line heading every page is not
    pages = "".join(f"\fQuarterly Report\n\nSales rose in region {k}.\n\nThe story goes on.\n" for k in range(1, 5))
    parsed = parse_plain(pages)
    assert "Quarterly Report" not in parsed.text and parsed.text.count("The story goes on.") == 4


def test_html_details_and_summary_are_lines_of_their_own():
    page = parse_html("<details><summary>Can I print?</summary>Yes, at the desk.</details>"
                      "<details><summary>Is there Wi-Fi?</summary>Yes.</details>")
    assert page.text.split("\n") == ["Can I print?", "Yes, at the desk.", "Is there Wi-Fi?", "Yes."]


def test_a_long_line_of_dots_is_read_in_one_pass_and_kept():
    # A dot leader was once searched for from every dot: this line took minutes.
    line = "." * 50_000 + " 12"
    assert parse_plain(line + "\n").text == line


def test_a_definition_is_written_on_its_terms_line():
    page = parse_html("<dl><dt>Written premium</dt><dd><p>The total premium of policies sold.</p></dd>"
                      "<dt>Earned premium</dt><dd>The part of the written premium for cover given.</dd>"
                      "<dd>Also: earned income.</dd></dl><p>Next.</p>")
    assert page.text.split("\n") == ["Written premium — The total premium of policies sold.",
                                     "Earned premium — The part of the written premium for cover given.",
                                     "Earned premium — Also: earned income.", "Next."]


def test_plain_text_underlined_headings_are_sections_and_their_underlines_go():
    parsed = parse_plain("Incident Report\n===============\n\nSummary\n-------\nThe canary failed.\n\n"
                         "A sentence ends here.\n---\nMore.\n")
    assert [h for _, h in parsed.headings] == ["Incident Report", "Summary"]  # a lone top heading is the title
    assert "=====" not in parsed.text and "-------" not in parsed.text
    assert "A sentence ends here.\n---\nMore." in parsed.text  # a rule under a sentence is no underline


def test_html_superscripts_keep_ordinals_mark_exponents_and_set_note_marks_apart():
    page = parse_html("<p>Suction (AW)<sup>2</sup> is 165<sup>4</sup> on the 1<sup>st</sup> floor of 30 m<sup>2</sup>"
                      ", see<sup><a href='#n'>*</a></sup>.</p>")
    assert page.text == "Suction (AW) [2] is 165 [4] on the 1st floor of 30 m^2, see [*]."


def test_markdown_inline_superscripts_read_as_in_html():
    assert parse_markdown("Suction is 165<sup>4</sup> on the 1<sup>st</sup> floor of 30 m<sup>2</sup>.\n").text == \
        "Suction is 165 [4] on the 1st floor of 30 m^2."


def test_a_form_feed_closing_the_file_starts_no_page():
    assert len(parse_plain("page one\n\fpage two\n\f").page_starts) == 2


def test_definition_lists_with_an_empty_definition_or_an_unclosed_term():
    assert parse_html("<dl><dt>A</dt><dd></dd></dl><p>Next paragraph.</p>").text == "A\nNext paragraph."
    assert parse_html("<dl><dt>Alpha</dt><dd>first</dd><dt>Beta<dd>second</dl>").text == "Alpha — first\nBeta — second"


def test_a_superscript_after_a_name_is_a_note_and_after_ten_an_exponent():
    page = parse_html("<p>As Smith<sup>3</sup> showed, 10<sup>8</sup> cells; a word<sup> </sup>apart.</p>")
    assert page.text == "As Smith [3] showed, 10^8 cells; a word apart."


def test_a_number_at_a_page_edge_is_its_page_number_only_when_close_to_it():
    parsed = parse_plain("2023\n\nReport text.\n\fMore text.\n\n2\n\fThe total was\n\n250\n")
    assert parsed.text.split("\n") == ["2023", "", "Report text.", "More text.", "", "The total was", "", "250"]
    assert parse_html("<dl><dt>A</dt><dd> </dd></dl><p>Next.</p>").text == "A\nNext."


def test_markdown_code_spans_pair_runs_of_equal_length_and_closing_hashes_go():
    assert render_markdown_inline("Use `a` and ``b ` c`` but `open") == "Use a and b ` c but `open"
    parsed = parse_markdown("## Fees ##\n\n# C#\n\nText.\n")
    assert [h for _, h in parsed.headings] == ["Fees", "C#"]


def test_a_huge_heading_or_column_name_is_written_again_only_in_short():
    long = "H" * 10_000
    page = parse_html(f"<table><tr><th>A</th><th>{long}</th></tr><tr><td>x</td><td>y</td></tr></table>")
    assert page.text.startswith("x — HHH") and len(page.text) < 200
    paths = parse_markdown(f"# T\n\n## {long}\n\n### a\n\nb\n").headings
    assert len(paths[-1][1]) < 200


def test_html_left_open_at_its_end_is_no_text_and_is_read_once():
    # Older versions of html.parser turn an unterminated tag into text and try every later "<"
    # against all the rest of the input: this page took minutes.
    assert parse_html("<p>Intro</p>" + "<a " * 100_000).text == "Intro"
    assert parse_html("<p>Intro</p>" + "<!--" * 50_000).text == "Intro"
    assert parse_html("<p>Intro</p>" + "</a " * 50_000).text == "Intro"
    # A truncated page: its half-written tag is not text, as in a browser; a lone "</" or "<" is.
    assert parse_html('<p>Intro</p><a href="https://exam').text == "Intro"
    assert parse_html("<p>Intro</p></").text == "Intro\n</"


def test_a_definitions_term_is_named_again_on_each_of_its_lines():
    term = "Premium " * 50
    page = parse_html(f"<dl><dt>{term}</dt>" + "<dd>x" * 3 + "</dl>")
    lines = page.text.split("\n")
    assert lines[0] == term.strip() + " — x" and len(lines) == 3
    assert lines[1] == lines[2] == term.strip()[:149].rstrip() + "… — x"


def test_markdown_lines_of_unclosed_marks_are_read_in_linear_time():
    # Patterns tried from each mark scanned on to the line's end (or 500 characters) and failed:
    # these lines took minutes.
    lines = ["<http:" * 30_000, "[^" * 100_000, "<a" * 100_000, "<script" * 20_000, "**a " * 20_000, "[a](()" * 20_000]
    parsed = parse_markdown("\n".join(lines) + "\n")
    assert parsed.text.split("\n") == [line.strip() for line in lines]  # none of them closes a mark


def test_markdown_link_labels_hold_no_bracket():
    # CommonMark: an unclosed "[" before a link is text, not the start of the link's label.
    assert render_markdown_inline("The interval [0, 1) is in [the docs](http://x.org/a_(b)).") == \
        "The interval [0, 1) is in the docs."
    assert render_markdown_inline("[![build](https://ci/x.svg)](https://ci) and [ref][1]") == "build and ref"
    assert render_markdown_inline("Name: __________ and ****") == "Name: __ and ****"  # as before


def test_a_marked_section_html_parser_does_not_know_is_skipped_not_fatal():
    # html.parser raises AssertionError on "<![x]>"; the page around it is still read
    text = parse_html("<p>Hello there.</p><![x]><p>More text.</p><![if !IE]><p>End.</p><![endif]>").text
    assert text.split("\n") == ["Hello there.", "More text.", "End."]


@pytest.mark.parametrize("content, headings", [
    ("Parking\n\nVisitors park in car park C\n", ["Parking"]),  # the last line heads nothing
    ("Newts\n\nThe newt lives in ponds. Ask Bob for details\n\nBob is in room 4.\n", ["Newts"]),  # two sentences
    ("Guest wifi\n\nThe password is tulip42.\n\nSt. Mary's Church\n\nIt opens at 9.\n", ["Guest wifi", "St. Mary's Church"]),
    ("Acme Inc. Annual Report\n\nSales rose.\n\nArsenal vs. Chelsea\n\nA draw.\n\nNotes on Mrs. Dalloway\n\nRead it.\n",
     ["Acme Inc. Annual Report", "Arsenal vs. Chelsea", "Notes on Mrs. Dalloway"]),  # abbreviations end no sentence
])
def test_a_line_that_ends_the_text_or_holds_two_sentences_is_no_heading(content, headings):
    for parse in (parse_plain, parse_markdown):
        assert [name for _, name in parse(content).headings] == headings


def test_a_text_of_headings_alone_answers_from_them():
    from bot.read.windows import answerable_span
    from bot.types import ReadItem

    text = "Parking\n\nVisitors park in car park C"
    at = text.index("car park C")
    assert answerable_span(ReadItem(text, "guide.txt", 0, 0, (), len(text)), at, at + len("car park C"))
    # with text under them, headings hold no answer but a figure
    under = text + "\nAsk at the desk for a permit."
    assert not answerable_span(ReadItem(under, "guide.txt", 0, 0, (), len(text)), at, at + len("car park C"))


def test_a_plain_table_whose_header_leaves_the_labels_column_empty_names_its_columns():
    parsed = parse_plain("Key figures\n\n"
                         "                          2022-23     2023-24\n"
                         "Food parcels distributed   6,480       8,215\n"
                         "Households helped          1,120       1,394\n\n"
                         "Reserves at year end       £22,600     £21,150\n\n"
                         "Urgent treatment: £26.80\n\n"
                         "Grants rose in 2023-24.\n")
    lines = parsed.text.split("\n")
    assert "Food parcels distributed — 2022-23: 6,480; 2023-24: 8,215." in lines
    # lines of figures, however alone, head nothing
    assert not any("Reserves" in h or "Urgent" in h for _, h in parsed.headings)
