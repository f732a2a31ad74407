from bot.parsing import parse_html, parse_markdown, parse_plain, render_markdown_inline


def test_markdown_links_emphasis_and_code_render_as_text():
    assert render_markdown_inline("See [the report](http://x.org/a_(b)) and **bold** `code` *em*.") == \
        "See the report and bold code em."
    assert render_markdown_inline("![a chart](c.png) <b>tag</b> snake_case_name") == "a chart tag snake_case_name"


def test_markdown_headings_become_sections_and_bullets_lose_markers():
    parsed = parse_markdown("# Title\n\nIntro text.\n\n## Part *two*\n\n- item one\n* item two\n1. item three\n")
    lines = parsed.text.split("\n")
    assert "item one" in lines and "item two" in lines and "item three" in lines
    assert [h for _, h in parsed.headings] == ["Title", "Part two"]
    assert parsed.title == "Title"
    # every text line maps to its source line
    assert len(parsed.line_starts) == len(parsed.source_lines) == len(lines)
    assert lines[parsed.source_lines.index(7) if 7 in parsed.source_lines else 0] == "item one"


def test_plain_short_standalone_lines_are_headings():
    parsed = parse_plain("Report Title\n\nA sentence here.\n\nFindings\n\nMore text. Even more.\n")
    assert [h for _, h in parsed.headings] == ["Report Title", "Findings"]


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
