"""The `bot` command, run in-process with the real embedding model (sentence mode for speed)."""

import io
import json
import subprocess
import sys

import pytest

from bot.cli import main
from tests.conftest import SAMPLE_DOCS, write_corpus

pytestmark = pytest.mark.models  # loads the real embedding model or starts the page


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    monkeypatch.setenv("BOT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("BOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("BOT_READER", "none")
    return corpus, tmp_path / "index"


def test_ask_json_has_the_documented_keys(dirs, capsys):
    assert main(["ask", "--json", "When did the Golden Gate Bridge open?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"answer", "abstained", "score", "citations", "passages", "timings_ms"} <= set(data)
    c = data["citations"][0]
    assert {"doc", "section", "start", "end", "quote", "line"} <= set(c)
    text = (dirs[0] / c["doc"]).read_text()
    assert c["quote"] in text and "1937" in data["answer"]


def test_ask_prints_answer_then_numbered_citations(dirs, capsys):
    assert main(["ask", "When did the Golden Gate Bridge open?"]) == 0
    out = capsys.readouterr().out
    assert "1937" in out.splitlines()[0]
    assert "[1] bridges.txt" in out and "line 3" in out


def test_ask_stdin_writes_one_json_object_per_input_line(dirs, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("When did Hekla erupt?\n\n   \nWhen did the Golden Gate open?\n"))
    assert main(["ask", "-"]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert len(out) == 4  # the Nth answer is the Nth line's, a blank line included
    assert "answer" in out[0] and "answer" in out[3]
    assert "empty" in out[1]["error"] and "empty" in out[2]["error"]


def documents_gone_for_the_second(corpus, questions):
    """The questions one by one, every document of `corpus` deleted before the second one is read
    and put back before the third."""
    saved = {p.name: p.read_bytes() for p in corpus.iterdir()}
    yield questions[0]
    for p in corpus.iterdir():
        p.unlink()
    yield questions[1]
    for name, data in saved.items():
        (corpus / name).write_bytes(data)
    yield from questions[2:]


def test_ask_stdin_goes_on_when_the_documents_are_gone_between_lines(dirs, capsys, monkeypatch):
    corpus, _ = dirs
    lines = ["When did the Golden Gate Bridge open?\n", "When did Hekla erupt?\n",
             "When did the Golden Gate Bridge open?\n"]
    monkeypatch.setattr(sys, "stdin", documents_gone_for_the_second(corpus, lines))
    assert main(["ask", "-"]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert len(out) == 3  # every line answered or given its error: the run did not stop
    assert "1937" in out[0]["answer"] and "1937" in out[2]["answer"]
    assert out[1]["question"] == "When did Hekla erupt?" and "no usable documents" in out[1]["error"]


@pytest.mark.parametrize("argv", [["ask", ""], ["ask", "   "], ["ask"]])
def test_empty_question_is_a_one_line_error_with_exit_2(dirs, capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err


@pytest.mark.parametrize("argv,flag", [(["--threshold", "2"], "--threshold"), (["--top-k", "0"], "--top-k")])
def test_a_bad_flag_value_names_the_flag_typed(dirs, capsys, argv, flag):
    assert main(["ask", *argv, "hi"]) == 2
    assert capsys.readouterr().err.strip().startswith(f"error: {flag} must be")


def test_huge_question_is_capped_and_answered(dirs, capsys):
    assert main(["ask", "--json", "bridge " * 15_000]) == 0
    assert "longer than" in json.loads(capsys.readouterr().out)["reason"]


def test_missing_and_empty_corpus_name_the_path(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BOT_READER", "none")
    assert main(["ask", "hi", "--corpus", str(tmp_path / "missing"), "--index", str(tmp_path / "i")]) == 2
    assert "missing" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["index", "--corpus", str(tmp_path / "empty"), "--index", str(tmp_path / "i")]) == 2
    assert "no usable documents" in capsys.readouterr().err


def test_index_reports_skipped_files_and_rebuilds_corrupt_index(dirs, capsys):
    corpus, index = dirs
    (corpus / "junk.txt").write_bytes(bytes(range(256)) * 4)
    assert main(["index"]) == 0
    captured = capsys.readouterr()
    assert "skipped junk.txt" in captured.err and "2 documents" in captured.out
    # The index is now up to date: asking again must still name the skipped file, not fail.
    assert main(["ask", "When did the Golden Gate Bridge open?"]) == 0
    captured = capsys.readouterr()
    assert "1937" in captured.out and "skipped junk.txt" in captured.err
    # many skipped files: answering names a few and counts the rest; indexing names them all
    for n in range(5):
        (corpus / f"junk{n}.txt").write_bytes(bytes(range(256)) * 4)
    assert main(["ask", "When did the Golden Gate Bridge open?"]) == 0
    err = capsys.readouterr().err
    assert err.count("note: skipped junk") == 3 and "note: 3 more files skipped (`bot index` names them all)" in err
    assert main(["index"]) == 0
    assert capsys.readouterr().err.count("note: skipped junk") == 6
    manifest = json.loads((index / "manifest.json").read_text())
    (index / manifest["shards"][0]["faiss_file"]).write_bytes(b"garbage")
    assert main(["index"]) == 0
    assert "corrupted" in capsys.readouterr().err
    # A rebuild embeds the same documents again: they are not reported as added.
    assert main(["index", "--force"]) == 0
    out = capsys.readouterr().out
    assert "rebuilt: 2 documents embedded again" in out and "added" not in out


def test_bad_setting_values_are_clear(dirs, capsys, monkeypatch):
    monkeypatch.setenv("BOT_TOP_K", "many")
    assert main(["ask", "x"]) == 2
    assert "BOT_TOP_K" in capsys.readouterr().err
    monkeypatch.delenv("BOT_TOP_K")
    assert main(["ask", "x", "--top-k", "0"]) == 2


def test_python_dash_m_bot_works():
    out = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "ask" in out.stdout


def test_an_index_path_that_is_a_file_is_a_clear_usage_error(dirs, tmp_path, capsys):
    not_a_folder = tmp_path / "hostname"
    not_a_folder.write_text("a file\n")
    assert main(["ask", "--index", str(not_a_folder), "When did the Golden Gate Bridge open?"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: the index folder {not_a_folder} is a file, not a folder: choose a folder"
    assert not_a_folder.read_text() == "a file\n"


def test_an_index_path_that_is_not_utf8_is_refused_before_anything_is_built(dirs, tmp_path, capsys):
    import os

    index = os.fsdecode(bytes(tmp_path) + b"/idx_\xff")
    assert main(["index", "--index", index]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the index folder") and "idx_\\xff" in err and "not valid UTF-8" in err
    assert "\n" not in err and not os.path.lexists(index)


def test_an_unexpected_error_is_reported_in_its_first_line_only(capsys):
    from bot.cli.options import run_reporting_errors

    def work():
        raise TypeError("Wrong number or type of arguments for overloaded function 'write_index'.\n"
                        "  Possible C/C++ prototypes are:\n    faiss::write_index(faiss::Index const *,char const *)")

    assert run_reporting_errors(work) == 3
    err = capsys.readouterr().err
    assert err == ("error: unexpected TypeError: Wrong number or type of arguments for overloaded function "
                   "'write_index'. (set BOT_DEBUG=1 for details)\n")


def test_docs_list_of_an_index_that_cannot_be_updated_says_so(dirs, capsys, monkeypatch):
    import faiss

    corpus, index = dirs
    assert main(["index"]) == 0
    (corpus / "new.txt").write_text("The Eiffel Tower was finished in 1889.", encoding="utf-8")

    def read_only(index, path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(faiss, "write_index", read_only)
    capsys.readouterr()
    assert main(["docs", "list"]) == 0
    captured = capsys.readouterr()
    assert "bridges.txt" in captured.out and "new.txt" not in captured.out  # the list as the index holds it
    assert captured.err.startswith(f"note: cannot write the index in {index}: permission denied")


def test_refitting_a_reader_without_a_calibration_says_what_to_do(tmp_path, capsys):
    assert main(["calibrate", "--model", str(tmp_path), "--refit"]) == 2
    err = capsys.readouterr().err
    assert "has no calibration.json to refit" in err and "unexpected" not in err and len(err.splitlines()) == 1


def test_negative_altered_questions_or_distillation_weight_are_usage_errors(tmp_path, capsys):
    code = main(["train-reader", "--multi-passage", "--train", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--altered", "-5"])
    assert code == 2 and "--altered must be >= 0" in capsys.readouterr().err
    code = main(["train-reader", "--multi-passage", "--train", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--distil-from", str(tmp_path), "--distil-weight", "-1"])
    assert code == 2 and "--distil-weight must be >= 0" in capsys.readouterr().err


def test_flags_for_a_readers_shipped_calibrations_need_model(tmp_path, capsys):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "Who?", "answer": "Ann"}\n')
    assert main(["calibrate", str(questions), "--max-answerable-loss", "5", "--limit", "10"]) == 2
    err = capsys.readouterr().err
    assert "--limit, --max-answerable-loss only apply" in err and "--model DIR" in err and "Traceback" not in err


def test_a_refusal_budget_outside_0_to_100_points_is_a_usage_error(tmp_path, capsys):
    assert main(["calibrate", "--model", str(tmp_path), "--refit", "--max-answerable-loss", "250"]) == 2
    err = capsys.readouterr().err
    assert "--max-answerable-loss is F1 points, 0 to 100 (got 250)" in err and len(err.splitlines()) == 1


def test_a_tool_failure_is_not_reported_as_a_failed_gate(dirs, tmp_path, capsys):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "When did the Golden Gate Bridge open?", "answers": ["1937"]}\n')
    code = main(["eval", str(questions), "--embedding-model", str(tmp_path / "no-such-model"), "--min-f1", "10"])
    err = capsys.readouterr().err
    assert code == 3, err  # 1 means "a gate failed"; 3 "the tool could not run"
    assert err.startswith("error: ") and "no-such-model" in err


def test_training_flags_the_chosen_kind_of_training_would_ignore_are_usage_errors(tmp_path, capsys):
    base = ["train-reader", "--train", str(tmp_path), "--out", str(tmp_path / "o"), "--work-dir", str(tmp_path / "w")]
    cases = [
        (["--altered", "100", "--articles", "5"], "--articles, --altered only apply to --multi-passage training"),
        (["--multi-passage", "--batch-size", "16"],
         "--batch-size only applies to single-window training (without --multi-passage)"),
        (["--multi-passage", "--distil-weight", "4"], "--distil-weight only applies with --distil-from"),
        (["--multi-passage", "--average-weight", "0.3"], "--average-weight only applies with --average-with"),
    ]
    for flags, message in cases:
        assert main(base + flags) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() and not (tmp_path / "w").exists()


def test_the_interactive_prompt_goes_on_when_the_documents_are_gone(dirs, capsys, monkeypatch):
    corpus, _ = dirs
    questions = documents_gone_for_the_second(corpus, ["When did the Golden Gate Bridge open?"] * 3 + [""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(questions))
    assert main(["chat"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("[1] bridges.txt") == 2 and "no usable documents" in captured.err


def test_training_refuses_bad_sizes_and_output_folders_before_it_starts(tmp_path, tiny_qa_model, capsys):
    keep = tmp_path / "notes"
    keep.mkdir()
    (keep / "precious.txt").write_text("keep me")
    base = ["train-reader", "--train", str(tmp_path), "--base-model", str(tiny_qa_model),
            "--work-dir", str(tmp_path / "w")]
    cases = [
        (["--out", str(keep)], "is a folder that holds no reader"),
        (["--out", str(tmp_path / "w")], "holds " + str(tmp_path / "w")),
        (["--out", str(tmp_path)], "holds " + str(tmp_path)),
        (["--out", str(keep / "precious.txt")], "is a file, not a folder"),
        (["--out", str(tmp_path / "o"), "--epochs", "0"], "--epochs must be more than 0"),
        (["--out", str(tmp_path / "o"), "--batch-size", "0"], "--batch-size must be at least 1"),
        (["--out", str(tmp_path / "o"), "--stop-at-step", "0"], "--stop-at-step must be at least 1"),
        (["--out", str(tmp_path / "o"), "--stride", "500"], "--stride must be from 0 to half of --max-length"),
        (["--out", str(tmp_path / "o"), "--multi-passage", "--average-with", str(tmp_path / "nothere")],
         "--average-with " + str(tmp_path / "nothere") + ": no such folder"),
    ]
    for flags, message in cases:
        assert main(base + flags) == 2, flags
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert (keep / "precious.txt").read_text() == "keep me" and not (tmp_path / "w").exists()
    no_tokenizer = tmp_path / "bare"
    no_tokenizer.mkdir()
    (no_tokenizer / "config.json").write_text((tiny_qa_model / "config.json").read_text())
    assert main(["train-reader", "--train", str(tmp_path), "--base-model", str(no_tokenizer),
                 "--out", str(tmp_path / "o")]) == 2
    assert "holds no tokenizer" in capsys.readouterr().err


def test_export_onnx_refuses_a_reader_without_a_tokenizer_before_building(tmp_path, tiny_qa_model, capsys):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        (bare / name).write_bytes((tiny_qa_model / name).read_bytes())
    assert main(["export-onnx", "--reader", str(bare), "--no-measure"]) == 2
    assert "holds no tokenizer" in capsys.readouterr().err


def test_a_folder_whose_every_file_is_skipped_says_why(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BOT_READER", "none")
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "junk.txt").write_bytes(bytes(range(256)) * 4)
    assert main(["index", "--corpus", str(corpus), "--index", str(tmp_path / "i")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: no usable documents") and "every file was skipped" in err
    assert "junk.txt: could not be read: binary content" in err


def test_sigterm_interrupts_a_command_like_ctrl_c(capsys):
    import os
    import signal
    import time

    from bot.cli.options import run_reporting_errors

    cleaned = []

    def work():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
            return 0
        finally:
            cleaned.append(True)

    before = signal.getsignal(signal.SIGTERM)
    assert run_reporting_errors(work) == 130 and cleaned == [True]
    assert "interrupted" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("command", ["index", "eval"])
def test_ray_workers_without_ray_is_refused(dirs, capsys, command):
    argv = [command, "--ray-workers", "2"] + (["questions.jsonl"] if command == "eval" else [])
    assert main(argv) == 2
    assert "--ray-workers needs --ray" in capsys.readouterr().err


def test_an_answer_over_two_lines_is_printed_on_one():
    from bot.cli.answering import format_response
    from bot.types import Response

    out = format_response(Response(question="What to bring?", answer="a towel\na padlock", abstained=False, score=0.5))
    assert out.splitlines()[0] == "a towel a padlock"
    # a list answer: an item a line
    out = format_response(Response(question="What to bring?", answer="a towel\na padlock", abstained=False, score=0.5,
                                   answer_items=["a towel", "a padlock"]))
    assert out.splitlines()[:2] == ["  a towel", "  a padlock"]
