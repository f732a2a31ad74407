"""`bot eval`: loading each input format, the three modes, failure stages, outputs and the CLI.

Most tests use the fake embedder and the sentence reader; one runs the real command end to end."""

import json
from dataclasses import replace

import pytest

from bot.evaluation import run as evaluation_run
from bot.read.answerability import ALL_FEATURES
from bot.cli import main
from bot.errors import DataError, UsageError
from bot.training.calibration import examples_from_results
from bot.evaluation import choose_mode, load_dataset, run_evaluation, sample, select_articles
from bot.evaluation.report import render_html, write_outputs
from tests.conftest import SAMPLE_DOCS, fake_sentence_bot, write_corpus

SQUAD_V1 = {
    "version": "1.1",
    "data": [
        {"title": "Bridges", "paragraphs": [
            {"context": "The Golden Gate Bridge opened in 1937. Its main span is 1,280 metres long.",
             "qas": [{"id": "b1", "question": "When did the Golden Gate Bridge open?",
                      "answers": [{"text": "1937", "answer_start": 33}]},
                     {"id": "b2", "question": "How long is the main span?",
                      "answers": [{"text": "Its main span is 1,280 metres long", "answer_start": 39}]}]},
            {"context": "The Tower Bridge in London was completed in 1894 after eight years of work.",
             "qas": [{"id": "b3", "question": "When was the Tower Bridge completed?",
                      "answers": [{"text": "1894", "answer_start": 44}]}]},
        ]},
        {"title": "Volcanoes", "paragraphs": [
            {"context": "Hekla is one of the most active volcanoes in Iceland. It erupted in 2000.",
             "qas": [{"id": "v1", "question": "Which volcano is one of the most active in Iceland?",
                      "answers": [{"text": "Hekla", "answer_start": 0}]}]},
        ]},
    ],
}

QUESTIONS = [
    # sentence mode answers the whole sentence: F1 vs "1937" is low -> misread
    {"id": "misread", "question": "When did the Golden Gate Bridge open?", "answers": ["1937"]},
    {"id": "absent", "question": "When did the Eiffel Tower open in Paris?", "answers": ["1889"]},
    {"id": "right", "question": "How long is the main span?", "answers": ["Its main span is 1,280 metres long"],
     "evidence": "main span is 1,280 metres"},
    {"id": "unanswerable", "question": "Who painted the Mona Lisa?", "answers": [], "answerable": False},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def factory(fake_embedder):
    return lambda settings: fake_sentence_bot(settings, fake_embedder)


@pytest.fixture
def fake_cli(monkeypatch, factory, small_settings):
    """The CLI with the fake models, over the small sample corpus."""
    monkeypatch.setattr(evaluation_run, "default_bot_factory", factory)
    monkeypatch.setenv("BOT_CORPUS_DIR", str(small_settings.corpus_dir))
    monkeypatch.setenv("BOT_INDEX_DIR", str(small_settings.index_dir))
    monkeypatch.setenv("BOT_READER", "none")


# ----- loading -----

def test_jsonl_fields_and_defaults(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Q one?", "answers": ["a", " ", "b"], "evidence": "ev"}\n\n'
                    '{"id": 7, "question": "Q two?", "answers": "single", "answerable": "true"}\n'
                    '{"question": "Q three?", "answerable": false}\n'
                    '{"question": "Q four?", "answerable": 0}\n', encoding="utf-8")
    ds = load_dataset(path)
    assert ds.format == "jsonl" and ds.n_available == 4
    one, two, three, four = ds.items
    assert four.answerable is False
    assert (one.id, one.answers, one.answerable, one.evidence, one.line) == ("line1", ("a", "b"), True, "ev", 1)
    assert (two.id, two.answers, two.line) == ("7", ("single",), 3)
    assert three.answerable is False and three.answers == ()


def test_csv_with_list_and_pipe_answers_and_multiline_cells(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('id,question,answers,answerable,evidence\n'
                    'c1,When did the Golden Gate Bridge open?,1937| in 1937 ,,\n'
                    'c2,"Who built it,\nreally?","[""Joseph Strauss"", ""Strauss""]",yes,\n'
                    'c3,Who painted the Mona Lisa?,,false,\n', encoding="utf-8")
    ds = load_dataset(path)
    assert ds.format == "csv"
    c1, c2, c3 = ds.items
    assert c1.answers == ("1937", "in 1937") and c1.answerable and c1.line == 2
    assert c2.question == "Who built it,\nreally?" and c2.answers == ("Joseph Strauss", "Strauss") and c2.line == 3
    assert not c3.answerable and c3.line == 5


@pytest.mark.parametrize("name,content,message", [
    ("bad.jsonl", '{"question": "ok?", "answers": ["a"]}\n\n{"question": "broken", \n', "bad.jsonl line 3: not valid JSON"),
    ("bad.jsonl", '["a list"]\n', "line 1: expected a JSON object"),
    ("bad.jsonl", '{"answers": ["a"]}\n', "line 1: missing 'question'"),
    ("bad.jsonl", '{"question": "ok?", "answers": []}\n', 'needs at least one non-empty answer (mark one the '
     'documents do not answer with "answerable": false)'),
    ("bad.jsonl", '{"question": "  ", "answers": ["a"]}\n', "line 1: the question is empty"),
    ("bad.jsonl", '{"question": "ok?", "answers": ["a"], "answerable": "maybe"}\n', "'answerable' must be true or false"),
    ("bad.csv", 'question,answer\nq?,a\n', "missing column(s) answers (found: question, answer)"),
    ("bad.csv", 'question,answers\n"q\n?",a\nq2?,a,extra\n', "bad.csv line 4: expected 2 fields, found 3"),
    ("bad.csv", 'question,answers\nq?,"[""unclosed"\n', "line 2: answers look like a JSON list"),
    ("bad.json", '{"version": "1.1", "data": [{"title": "t"}]}', "not a SQuAD file"),
    ("bad.json", '{"version": "1.1", "data": [{"title": "t", "paragraphs": [{"qas": []}]}]}', "a paragraph lacks context"),
    ("empty.jsonl", "\n\n", "no questions to evaluate"),
    ("notes.md", "# Notes\n\nThe bridge opened in 1937.\n", "notes.md: not a questions file: expected JSONL"),
    ("deep.jsonl", '{"question": "q?", "answers": ["a"]}\n{"question": "q?", "answers": ' + "[" * 100_000
     + "]" * 100_000 + "}\n", "deep.jsonl line 2: JSON nested too deeply"),
    ("deep.json", '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply to read"),
    ("bad.json", '{"version": "1.1", "data": {"title": "t"}}', "its 'data' is a dict, not a list of articles"),
    ("twice.csv", 'question,answers,answers\nq?,5521,9999\n', "twice.csv line 1: column 'answers' appears more than once"),
])
def test_malformed_input_is_a_data_error_naming_file_and_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_dataset(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_skip_invalid_keeps_the_good_lines(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "a?", "answers": ["x"]}\nnot json\n{"question": "b?", "answers": ["y"]}\n')
    ds = load_dataset(path, skip_invalid=True)
    assert [i.question for i in ds.items] == ["a?", "b?"]
    assert [(x.line, x.reason[:14]) for x in ds.invalid] == [(2, "not valid JSON")]


def test_squad_versions_are_detected_by_content(tmp_path):
    v1 = tmp_path / "squad.data"  # the name does not matter
    v1.write_text(json.dumps(SQUAD_V1))
    ds = load_dataset(v1)
    assert ds.format == "squad-1.1" and len(ds.items) == 4 and len(ds.paragraphs) == 3
    assert ds.items[2].context.startswith("The Tower Bridge") and ds.items[2].paragraph_index == 1
    v2 = tmp_path / "v2.json"
    v2.write_text(json.dumps(_squad_v2()))
    ds2 = load_dataset(v2)
    assert ds2.format == "squad-2.0" and [i.answerable for i in ds2.items].count(False) == 1


def test_a_squad_file_is_recognised_by_its_structure_whatever_its_version_says(tmp_path):
    # Derived sets keep the layout under other version strings (SQuADShifts says "1.0").
    for version in ("1.0", "", "custom"):
        path = tmp_path / f"shift-{version or 'none'}.json"
        path.write_text(json.dumps(dict(SQUAD_V1, version=version)))
        assert load_dataset(path).format == "squad-1.1"
    unanswerable = dict(_squad_v2(), version="1.0")
    path = tmp_path / "shift-v2.json"
    path.write_text(json.dumps(unanswerable))
    assert load_dataset(path).format == "squad-2.0"


def test_a_one_line_jsonl_file_whose_record_has_a_data_field_is_read_as_jsonl(tmp_path):
    record = {"question": "What is the gate code?", "answers": ["5521"], "data": []}
    path = write_jsonl(tmp_path / "one.jsonl", [record])
    ds = load_dataset(path)
    assert ds.format == "jsonl" and [i.answers for i in ds.items] == [("5521",)]


def test_a_csv_column_the_bot_does_not_read_may_appear_twice(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("question,notes,answers,notes\nWhat is the gate code?,a,5521,b\n", encoding="utf-8")
    assert [i.answers for i in load_dataset(path).items] == [("5521",)]


def _squad_v2():
    data = json.loads(json.dumps(SQUAD_V1))
    data["version"] = "v2.0"
    data["data"][1]["paragraphs"][0]["qas"].append(
        {"id": "v2", "question": "When did Hekla last erupt before 1900?", "answers": [], "is_impossible": True,
         "plausible_answers": [{"text": "2000", "answer_start": 67}]})
    return data


def test_only_the_named_articles_are_kept(tmp_path, fake_cli, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SQUAD_V1))
    ds = select_articles(load_dataset(path), {"Volcanoes"})
    assert {p.title for p in ds.paragraphs} == {"Volcanoes"} and ds.n_available == len(ds.items) > 0
    assert all(ds.paragraphs[0].index <= i.paragraph_index for i in ds.items)
    with pytest.raises(DataError, match="no article named Lakes"):
        select_articles(load_dataset(path), {"Lakes"})
    assert main(["eval", f"{path}@Volcanoes", "--gold-context", "--threshold", "0"]) == 0
    assert f"{len(ds.items)} questions" in capsys.readouterr().out


def test_mode_choice(tmp_path):
    squad = tmp_path / "s.json"
    squad.write_text(json.dumps(SQUAD_V1))
    ds = load_dataset(squad)
    with pytest.raises(UsageError, match="--gold-context .* or --squad-open"):
        choose_mode(ds, False, False)
    assert choose_mode(ds, True, False) == "gold-context" and choose_mode(ds, False, True) == "squad-open"
    jsonl = write_jsonl(tmp_path / "q.jsonl", QUESTIONS)
    assert choose_mode(load_dataset(jsonl), False, False) == "corpus"
    with pytest.raises(UsageError, match="SQuAD files only"):
        choose_mode(load_dataset(jsonl), True, False)


def test_sample_is_reproducible_and_keeps_file_order(tmp_path):
    path = write_jsonl(tmp_path / "q.jsonl", [{"question": f"q{n}?", "answers": ["a"]} for n in range(20)])
    ds = load_dataset(path)
    a, b, c = sample(ds, 5, 1), sample(ds, 5, 1), sample(ds, 5, 2)
    assert [i.id for i in a.items] == [i.id for i in b.items] != [i.id for i in c.items]
    lines = [i.line for i in a.items]
    assert lines == sorted(lines) and len(lines) == 5 and a.n_available == 20
    assert sample(ds, 50, 0).items == ds.items


# ----- running -----

def test_corpus_mode_failure_stages(tmp_path, small_settings, factory):
    ds = load_dataset(write_jsonl(tmp_path / "q.jsonl", QUESTIONS))
    run = run_evaluation(ds, replace(small_settings, abstain_threshold=0.0), "corpus", bot_factory=factory)
    by_id = {r.id: r for r in run.results}
    assert by_id["misread"].stage == "misread" and "1937" in by_id["misread"].prediction
    assert by_id["misread"].passage_text and "1937" in by_id["misread"].passage_text
    assert by_id["absent"].stage == "not_retrieved" and by_id["absent"].hit_rank is None
    assert by_id["right"].stage is None and by_id["right"].f1 == 100.0 and by_id["right"].citation_correct
    assert by_id["unanswerable"].stage == "answered_unanswerable" and by_id["unanswerable"].f1 == 0.0
    m = run.metrics
    assert m["failures"] == {"not_retrieved": 1, "misread": 1, "wrongly_refused": 0, "answered_unanswerable": 1,
                             "total": 3}
    assert m["has_answer"]["n"] == 3 and m["no_answer"] == {"n": 1, "refused": 0, "refused_pct": 0.0}
    assert m["retrieval"]["recall@5"] == pytest.approx(66.667) and m["retrieval"]["n"] == 3
    assert m["citation_accuracy"] is not None and m["latency_ms"]["read"]["p50"] >= 0
    assert set(run.results[0].timings_ms) >= {"embed", "retrieve", "read", "format", "total"}

    # The same questions with a threshold no answer reaches: answerable ones are wrongly refused,
    # the unanswerable one rightly.
    strict = run_evaluation(ds, replace(small_settings, abstain_threshold=1.0), "corpus", bot_factory=factory)
    stages = {r.id: r.stage for r in strict.results}
    assert stages == {"misread": "wrongly_refused", "absent": "not_retrieved", "right": "wrongly_refused",
                      "unanswerable": None}
    assert strict.metrics["no_answer"]["refused_pct"] == 100.0 and strict.metrics["f1"] == 25.0
    # Refused answers still carry what the reader would have said (for the coverage curve).
    assert all(r.best_answer for r in strict.results)


def test_features_for_calibration(tmp_path, small_settings, factory):
    bot = factory(small_settings)
    assert set(bot.ask("When did the Golden Gate Bridge open?").features) == set(ALL_FEATURES)
    ds = load_dataset(write_jsonl(tmp_path / "q.jsonl", QUESTIONS))
    results = evaluation_run.ask_dataset(ds.items, bot, threshold=0.5)
    rows = examples_from_results(results)
    assert len(rows) == 4 and all(set(r.features) == set(ALL_FEATURES) for r in rows)
    assert [r.answerable for r in rows] == [True, True, True, False]
    assert rows[2].answer_f1 == 1.0 and 0 < rows[0].answer_f1 < 0.5
    assert bot.settings.abstain_threshold is None  # the bot is handed back as it was


def test_gold_context_reads_each_paragraph(tmp_path, small_settings, factory):
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(_squad_v2()))
    run = run_evaluation(load_dataset(path), replace(small_settings, abstain_threshold=0.0), "gold-context",
                         bot_factory=factory)
    m = run.metrics
    assert m["n"] == 5 and m["mode"] == "gold-context" and m["format"] == "squad-2.0"
    assert m["retrieval"] is None and m["citation_accuracy"] is None and m["failures"]["not_retrieved"] == 0
    assert m["no_answer"]["n"] == 1 and m["failures"]["answered_unanswerable"] == 1
    by_id = {r.id: r for r in run.results}
    assert by_id["b2"].prediction == "Its main span is 1,280 metres long." and by_id["b2"].em == 100.0
    assert by_id["b3"].passage_text.startswith("The Tower Bridge") and set(by_id["b3"].timings_ms) == {
        "read", "format", "total"}
    assert not (small_settings.index_dir / "manifest.json").exists()  # no index needed


def test_squad_open_indexes_all_paragraphs_in_a_temporary_folder(tmp_path, small_settings, factory):
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(SQUAD_V1))
    seen = []

    def spy(settings):
        seen.append(settings)
        return factory(settings)

    ds = sample(load_dataset(path), 2, seed=0)
    run = run_evaluation(ds, small_settings, "squad-open", bot_factory=spy)
    corpus = seen[0].corpus_dir
    assert corpus != small_settings.corpus_dir and not corpus.exists()  # removed afterwards
    docs = {d["doc"] for r in run.results for d in r.retrieved}
    assert docs == {"Bridges 0.txt", "Bridges 1.txt", "Volcanoes 2.txt"}  # every paragraph, not just the sample
    assert run.metrics["retrieval"]["recall@5"] == 100.0 and run.metrics["n"] == 2
    # the stricter figure: the question's own paragraph among the passages
    gold = run.metrics["retrieval"]["gold_paragraph"]
    assert gold["recall@5"] == 100.0 and gold["n"] == 2  # three documents: all are returned
    for r in run.results:
        own = next(p for p in ds.paragraphs if p.context == next(i for i in ds.items if i.id == r.id).context)
        assert r.retrieved[r.gold_doc_rank - 1]["doc"].endswith(f" {own.index}.txt")


# ----- outputs -----

def test_report_is_self_contained_and_escaped(tmp_path, small_settings, factory):
    rows = QUESTIONS + [{"id": "<b>x</b>", "question": "<script>alert(1)</script> bridge?", "answers": ["<i>"]}]
    ds = load_dataset(write_jsonl(tmp_path / "q.jsonl", rows))
    run = run_evaluation(ds, small_settings, "corpus", bot_factory=factory)
    page = render_html(run)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert page.count("data:image/png;base64,") == 3
    assert 'src="http' not in page and "<link" not in page
    for heading in ("Summary", "Failures", "Choosing an abstention threshold", "Latency", "Failed questions"):
        assert f"<h2>{heading}</h2>" in page


def test_outputs_replace_only_their_own_files(tmp_path, small_settings, factory):
    ds = load_dataset(write_jsonl(tmp_path / "q.jsonl", QUESTIONS))
    run = run_evaluation(ds, small_settings, "corpus", bot_factory=factory)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "metrics.json").write_text("old")
    write_outputs(run, out)
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "notes.txt", "report.html", "results.jsonl"]
    assert json.loads((out / "metrics.json").read_text())["n"] == 4
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == 4 and {"id", "prediction", "f1", "stage", "features", "timings_ms"} <= set(json.loads(lines[0]))
    fresh = write_outputs(run, tmp_path / "a" / "new")
    assert sorted(p.name for p in fresh.iterdir()) == ["metrics.json", "report.html", "results.jsonl"]
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["new"]  # no temporary folder left behind


# ----- command line -----

def test_cli_gates_set_the_exit_code(tmp_path, fake_cli, capsys):
    path = write_jsonl(tmp_path / "q.jsonl", QUESTIONS)
    assert main(["eval", str(path), "--threshold", "0", "--min-f1", "0", "--min-recall", "60"]) == 0
    out = capsys.readouterr().out
    assert "answerable" in out and "recall@1" in out and "failures" in out
    assert main(["eval", str(path), "--threshold", "0", "--min-f1", "99", "--min-em", "0"]) == 1
    err = capsys.readouterr().err
    assert "gate failed: F1" in err and "exact match" not in err
    assert main(["eval", str(path), "--min-recall", "90"]) == 1
    assert "gate failed: recall@5 66.7 is below the minimum 90" in capsys.readouterr().err
    assert main(["eval", str(path), "--min-recall", "90", "--top-k", "3"]) == 2
    assert "--min-recall is recall@5, which needs --top-k 5 or more" in capsys.readouterr().err


def test_cli_malformed_line_exits_2_and_writes_nothing(tmp_path, fake_cli, capsys):
    path = tmp_path / "data.jsonl"
    path.write_text('{"question": "a?", "answers": ["x"]}\n' * 6 + '{"question": oops}\n')
    out = tmp_path / "out"
    assert main(["eval", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path} line 7: not valid JSON") and "\n" not in err
    assert not out.exists()
    assert main(["eval", str(path), "--skip-invalid", "--out", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["invalid"]["skipped"] == 1
    assert "line 7" in capsys.readouterr().err


def test_cli_out_with_an_output_name_taken_by_a_folder_is_refused_before_the_run(tmp_path, fake_cli, capsys,
                                                                                  monkeypatch, factory):
    out = tmp_path / "out"
    (out / "metrics.json").mkdir(parents=True)
    (out / "results.jsonl").write_text("earlier")
    path = write_jsonl(tmp_path / "q.jsonl", QUESTIONS)
    assert main(["eval", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: --out {out}: {out / 'metrics.json'} exists and is not a file (move it away, or choose " \
                  "another --out)"
    assert (out / "results.jsonl").read_text() == "earlier" and sorted(p.name for p in out.iterdir()) == [
        "metrics.json", "results.jsonl"]
    # A folder put there while the questions were asked: still nothing is replaced.
    (out / "metrics.json").rmdir()

    def folder_meanwhile(settings):
        (out / "report.html").mkdir()
        return factory(settings)

    monkeypatch.setattr(evaluation_run, "default_bot_factory", folder_meanwhile)
    assert main(["eval", str(path), "--out", str(out)]) == 2
    assert "report.html exists and is not a file" in capsys.readouterr().err
    assert (out / "results.jsonl").read_text() == "earlier" and list(tmp_path.glob("out/.out*")) == []


def test_cli_squad_needs_a_mode_and_recall_needs_retrieval(tmp_path, fake_cli, capsys):
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(SQUAD_V1))
    assert main(["eval", str(path)]) == 2
    assert "--gold-context" in capsys.readouterr().err
    assert main(["eval", str(path), "--gold-context", "--min-recall", "10"]) == 2
    with pytest.raises(SystemExit) as info:  # argparse: one or the other
        main(["eval", str(path), "--gold-context", "--squad-open"])
    assert info.value.code == 2
    assert main(["eval", str(path), "--gold-context", "--limit", "0"]) == 2


def test_cli_interrupt_exits_130_and_writes_nothing(tmp_path, monkeypatch, fake_cli, factory, capsys):
    def interrupted(settings):
        bot = factory(settings)
        bot.ask_many = lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
        return bot

    monkeypatch.setattr(evaluation_run, "default_bot_factory", interrupted)
    out = tmp_path / "out"
    assert main(["eval", str(write_jsonl(tmp_path / "q.jsonl", QUESTIONS)), "--out", str(out)]) == 130
    assert not out.exists() and list(tmp_path.glob(".out*")) == []


@pytest.mark.models
def test_cli_end_to_end_with_the_real_embedder(tmp_path, monkeypatch, capsys):
    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    monkeypatch.setenv("BOT_READER", "none")
    data = tmp_path / "q.csv"
    data.write_text("question,answers,answerable\n"
                    "When did the Golden Gate Bridge open?,1937|in 1937,\n"
                    "When was the Tower Bridge completed?,1894,\n"
                    "Who painted the Mona Lisa?,,false\n", encoding="utf-8")
    out = tmp_path / "report"
    code = main(["eval", str(data), "--corpus", str(corpus), "--index", str(tmp_path / "index"),
                 "--out", str(out), "--min-recall", "100"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "written to" in captured.out
    m = json.loads((out / "metrics.json").read_text())
    assert m["n"] == 3 and m["mode"] == "corpus" and m["reader"] == "sentence"
    assert m["retrieval"]["recall@1"] == 100.0
    assert {"n", "exact_match", "f1", "refused"} <= set(m["has_answer"]) and {"n", "refused"} <= set(m["no_answer"])
    assert {"p50", "p95", "embed", "retrieve", "read"} <= set(m["latency_ms"])
    assert (out / "report.html").stat().st_size > 10_000


def test_json_strings_may_hold_line_separators(tmp_path):
    path = tmp_path / "q.jsonl"
    lines = [{"question": f"Where is line\u2028break {i}?", "answers": [f"here\u2029{i}", "x\x85y"]} for i in range(3)]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    ds = load_dataset(path)
    assert [i.line for i in ds.items] == [1, 2, 3] and ds.items[2].answers[0] == "here\u20292"


def test_article_spec_splits_at_the_last_at_sign_and_a_real_path_is_kept_whole(tmp_path):
    from bot.evaluation import split_article_spec

    folder = tmp_path / "at@dir"
    folder.mkdir()
    squad = folder / "s.json"
    squad.write_text(json.dumps(SQUAD_V1))
    assert split_article_spec(f"{squad}@Bridges,Volcanoes") == (str(squad), frozenset({"Bridges", "Volcanoes"}))
    assert split_article_spec(str(squad)) == (str(squad), None)


def test_an_unusable_out_folder_is_refused_before_the_run(tmp_path, fake_cli, capsys):
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(QUESTIONS[0]) + "\n")
    a_file = tmp_path / "results.txt"
    a_file.write_text("keep me")
    assert main(["eval", str(path), "--out", str(a_file / "sub")]) == 2
    captured = capsys.readouterr()
    assert f"{a_file} is a file, not a folder" in captured.err and "questions" not in captured.out
    assert a_file.read_text() == "keep me"


def test_gate_minimums_must_be_percentages(tmp_path, fake_cli, capsys):
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(QUESTIONS[0]) + "\n")
    for bad in ("nan", "-1", "101", "lots"):
        with pytest.raises(SystemExit) as info:
            main(["eval", str(path), "--min-f1", bad])
        assert info.value.code == 2


def test_a_gate_missed_by_a_hair_shows_enough_digits():
    from bot.evaluation import gate_failures

    [message] = gate_failures({"f1": 66.6667, "exact_match": 50.0}, min_f1=66.7)
    assert message == "F1 66.6667 is below the minimum 66.7"
    assert gate_failures({"f1": 66.6667}, min_f1=66.6) == []


def test_repeated_paragraphs_in_squad_open_share_the_first_copy_as_gold(tmp_path):
    from bot.evaluation.data import Paragraph

    paragraphs = [Paragraph(0, "A", "Same text."), Paragraph(1, "B", "Other text."), Paragraph(2, "C", "Same text.")]
    docs = evaluation_run.write_squad_corpus(paragraphs, tmp_path / "corpus")
    assert docs[2] == docs[0] and docs[1] != docs[0]
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == sorted({docs[0], docs[1]})
