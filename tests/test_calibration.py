"""Answerability: the logistic fit, the threshold choice, and fitting/storing calibrations."""

import json

import numpy as np
import pytest

from bot.training.calibration import (
    READER_ONLY_FEATURES, TuneSource, calibrate_model, calibrate_on_corpus, refit_model,
)
from bot.read.answerability import Calibration, default_calibration
from bot.training.calibration_fit import choose_threshold, fit_logistic
from bot.config import load_settings
from bot.evaluation import load_dataset
from bot.pipeline import Bot
from bot.read.sentence import SentenceReader
from tests.conftest import FakeEmbedder


def test_logistic_fit_recovers_a_known_relation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    p = 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0 * x[:, 1] + 0.5)))
    y = (rng.random(4000) < p).astype(float)
    w, b = fit_logistic(x, y, l2=0.0)
    assert w == pytest.approx([2.0, -1.0], abs=0.25) and b == pytest.approx(0.5, abs=0.2)


def test_threshold_maximises_expected_score_by_hand():
    prob = np.array([0.9, 0.8, 0.3, 0.2])
    f1 = np.array([1.0, 1.0, 0.0, 0.0])  # two right answers, two unanswerable questions
    answerable = np.array([True, True, False, False])
    t, table = choose_threshold(prob, f1, answerable)
    assert 0.3 < t <= 0.8  # answer the first two, refuse the rest: score 1.0
    assert max(row["score"] for row in table) == 1.0


def test_default_rule_compares_span_with_no_answer_score():
    cal = default_calibration("neural", "neural:x")
    assert cal.probability({"null_gap": 3.0}) > 0.9 and cal.probability({"null_gap": -3.0}) < 0.1


def _questions(tmp_path):
    rows = [{"question": "When did the Golden Gate Bridge open?", "answers": ["The Golden Gate Bridge opened in 1937."]},
            {"question": "When was the Tower Bridge completed?", "answers": ["The Tower Bridge in London was completed in 1894 after eight years of work."]},
            {"question": "How many stations monitor seismic activity?", "answers": ["The Icelandic Meteorological Office monitors seismic activity with 70 stations."]},
            {"question": "When did Hekla erupt?", "answers": ["It erupted in 2000."]}] * 3
    rows += [{"question": q, "answers": [], "answerable": False} for q in
             ["Who painted the Mona Lisa?", "What is the capital of Peru?", "How do bees make honey?",
              "Who won the chess match?", "Where do penguins live?", "Why is the sky blue?"]]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_user_calibration_is_stored_with_the_index_and_used(tmp_path, small_settings):
    emb = FakeEmbedder()
    bot = Bot(small_settings, embedder=emb, reader=SentenceReader(emb))
    cal = calibrate_on_corpus(bot, load_dataset(_questions(tmp_path)))
    assert cal.reader == "sentence" and cal.n_examples == 18 and cal.tradeoff
    cal.save(small_settings.index_dir / "calibration.json")
    fresh = Bot(small_settings, embedder=emb, reader=SentenceReader(emb))
    assert fresh.calibration.fitted_on == cal.fitted_on
    assert fresh.threshold == pytest.approx(cal.threshold)
    # a calibration fitted for another reader is ignored (the shipped one or the default rule is used)
    other = Calibration("neural:someone/else", **{k: v for k, v in cal.__dict__.items() if k != "reader"})
    other.fitted_on = "for another reader"
    other.save(small_settings.index_dir / "calibration.json")
    assert Bot(small_settings, embedder=emb, reader=SentenceReader(emb)).calibration.fitted_on != "for another reader"


@pytest.mark.parametrize("change", [
    {"weights": [0.5]},                  # fewer weights than features
    {"bias": None},
    {"threshold": 7},                    # no probability
    {"features": ["span_score", "made_up"]},
    {"scale": "wide"},
])
def test_a_damaged_calibration_in_the_index_folder_is_set_aside(tmp_path, small_settings, change, caplog):
    emb = FakeEmbedder()
    shipped = Bot(small_settings, embedder=emb, reader=SentenceReader(emb)).calibration
    damaged = {**shipped.__dict__, "reader": "sentence", "fitted_on": "damaged", **change}
    small_settings.index_dir.mkdir(parents=True, exist_ok=True)
    (small_settings.index_dir / "calibration.json").write_text(json.dumps(damaged))
    bot = Bot(small_settings, embedder=emb, reader=SentenceReader(emb))
    assert bot.calibration.fitted_on == shipped.fitted_on and "ignoring unreadable calibration" in caplog.text
    assert not bot.ask("When did the Golden Gate Bridge open?", threshold=0).abstained


def test_a_calibration_needs_answerable_and_unanswerable_questions(tmp_path, small_settings):
    from bot.errors import DataError
    from bot.training.calibration import Example, fit

    rows = [json.loads(line) for line in _questions(tmp_path).read_text().splitlines()]
    only_answerable = tmp_path / "answerable.jsonl"
    only_answerable.write_text("".join(json.dumps(r) + "\n" for r in rows if r.get("answerable", True)))
    emb = FakeEmbedder()
    bot = Bot(small_settings, embedder=emb, reader=SentenceReader(emb))
    with pytest.raises(DataError, match=r"answerable\.jsonl: calibration needs answerable and unanswerable "
                                        r"questions \(got 12 answerable and 0 unanswerable\)"):
        calibrate_on_corpus(bot, load_dataset(only_answerable))
    assert not small_settings.index_dir.exists()  # refused before a question was asked
    # Nor is a threshold fitted when every unanswerable question went without a candidate answer.
    answered = [Example({"span_score": k / 20}, float(k % 2), True) for k in range(20)]
    with pytest.raises(DataError, match=r"got 20 answerable and 0 unanswerable"):
        fit(answered, "sentence", "pairs.jsonl", ("span_score",))


def test_model_calibrations_are_fitted_and_shipped_with_the_reader(tmp_path, tiny_qa_model, monkeypatch):
    import shutil

    from bot.evaluation import metrics as metrics

    # The tiny model is untrained; score spans by a coin that depends only on their text so
    # both labels occur and the plumbing (examples, fits, files) is what is tested.
    monkeypatch.setattr(metrics, "f1", lambda prediction, golds: 100.0 * (len(prediction) % 2))

    model = tmp_path / "reader"
    shutil.copytree(tiny_qa_model, model)
    squad = {"version": "v2.0", "data": [{"title": t, "paragraphs": [
        {"context": f"The {t} river is {n} kilometres long. It was mapped in {1800 + n}.",
         "qas": [{"id": f"{t}{n}a", "question": f"How long is the {t} river?",
                  "answers": [{"text": f"{n} kilometres", "answer_start": len(f"The {t} river is ")}]},
                 {"id": f"{t}{n}u", "question": f"Who swam the {t} river?", "answers": [], "is_impossible": True}]}
        for n in range(3)]} for t in ("Amber", "Birch", "Cedar", "Dune", "Elm")]}
    path = tmp_path / "tune.json"
    path.write_text(json.dumps(squad))
    emb = FakeEmbedder()
    settings = load_settings({"reader": str(model), "corpus_dir": tmp_path / "c", "index_dir": tmp_path / "i"})

    def factory(s):
        return Bot(s, embedder=emb)

    fitted = calibrate_model(factory, settings, [TuneSource(str(path))], model, limit=None, seed=0,
                             work_dir=tmp_path / "work",
                             log=lambda m: None)
    assert set(fitted) == {"calibration.json", "calibration-reader-only.json", "calibration-sentence.json"}
    for name in fitted:
        assert (model / name).is_file()
    bot = Bot(load_settings({"reader": str(model), "corpus_dir": tmp_path / "c", "index_dir": tmp_path / "i2"}),
              embedder=emb)
    assert bot.calibration.fitted_on.startswith("tune.json") and bot.calibration.features[0] == "span_score"
    assert bot.reader_only_calibration.features == list(READER_ONLY_FEATURES)
    # A refit from the saved examples gives the same rules and records what they were read from,
    # not what the calibration it replaces was fitted on.
    before = Calibration.load(model / "calibration.json")
    refitted = refit_model(tmp_path / "work", model, before.reader, "an older description")
    assert refitted["calibration.json"].threshold == before.threshold
    assert refitted["calibration.json"].fitted_on == before.fitted_on
    (tmp_path / "work" / "examples-source.txt").unlink()
    again = refit_model(tmp_path / "work", model, before.reader, "older", "my/embedder")["calibration.json"]
    assert again.fitted_on == "older" and again.embedding_model == "my/embedder"
    # The shipped rules keep refusals within the budget in every tune file, and say so.
    assert before.max_answerable_loss == 0.02
    assert all(row["answerable_f1_lost"] <= 0.02 + 1e-9 for row in before.per_source if row["answerable"])
    unlimited = refit_model(tmp_path / "work", model, before.reader, "older", max_answerable_loss=None)
    assert unlimited["calibration.json"].max_answerable_loss is None
    source = TuneSource.parse(f"{path}@Amber,Birch", unanswerable_only=True)
    ds = source.load(None, 0)
    assert {i.answerable for i in ds.items} == {False} and len(ds.items) == 6


def test_tune_source_rejects_unknown_articles(tmp_path):
    from bot.errors import DataError

    path = tmp_path / "s.json"
    path.write_text(json.dumps({"version": "1.1", "data": [{"title": "A", "paragraphs": [
        {"context": "x y", "qas": [{"id": "1", "question": "q?", "answers": [{"text": "x", "answer_start": 0}]}]}]}]}))
    with pytest.raises(DataError, match="no article named Zed"):
        TuneSource.parse(f"{path}@Zed").load(None, 0)


def test_a_calibration_on_another_embedders_similarity_scale_is_not_applied(tmp_path, small_settings):
    from dataclasses import replace

    emb = FakeEmbedder()
    bot = Bot(small_settings, embedder=emb, reader=SentenceReader(emb))
    cal = calibrate_on_corpus(bot, load_dataset(_questions(tmp_path)))
    assert cal.embedding_model == small_settings.embedding_model and "dense" in cal.features
    cal.fitted_on = "fitted with the default embedder"
    cal.save(small_settings.index_dir / "calibration.json")
    assert Bot(small_settings, embedder=emb, reader=SentenceReader(emb)).calibration.fitted_on == cal.fitted_on
    other = replace(small_settings, embedding_model="someone/other-embedder")
    assert Bot(other, embedder=emb, reader=SentenceReader(emb)).calibration.fitted_on != cal.fitted_on
    # without similarity features the embedder does not matter
    reader_only = replace(cal, features=["span_score"], mean=[0.0], scale=[1.0], weights=[1.0])
    reader_only.save(small_settings.index_dir / "calibration.json")
    assert Bot(other, embedder=emb, reader=SentenceReader(emb)).calibration.fitted_on == cal.fitted_on


def test_threshold_keeps_refusals_within_the_budget_in_every_domain():
    # Domain "a": scores separate well. Domain "b": its right answers score below its wrong ones.
    prob = np.array([0.9, 0.8, 0.1, 0.1, 0.3, 0.25, 0.35, 0.4, 0.45])
    f1 = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    answerable = np.array([True, True, False, False, True, True, False, False, False])
    groups = np.array(["a"] * 4 + ["b"] * 5)
    free, _ = choose_threshold(prob, f1, answerable, groups=groups)
    assert 0.45 < free <= 0.8  # refusing all of "b" scores best, and costs its answerable questions all their F1
    held, _ = choose_threshold(prob, f1, answerable, groups=groups, max_answerable_loss=0.02)
    assert 0.1 < held <= 0.25  # both right answers in "b" are kept, a's wrong ones still refused
    # A budget as large as b's whole F1 leaves the choice free.
    assert choose_threshold(prob, f1, answerable, groups=groups, max_answerable_loss=1.0)[0] == free


def test_sentence_mode_reading_one_paragraph_uses_its_own_default_rule(small_settings):
    # The bundled reader's reader-only calibration reads span logits; sentence mode scores cosines.
    emb = FakeEmbedder()
    cal = Bot(small_settings, embedder=emb, reader=SentenceReader(emb)).reader_only_calibration
    assert cal.reader == "sentence" and cal.fitted_on == "default rule" and cal.features == ["span_score"]


def test_too_few_labelled_answers_is_a_data_error_and_calibrate_refuses_limit_0(tmp_path, capsys):
    from bot.cli import main
    from bot.errors import DataError
    from bot.training.calibration_fit import fit_calibration

    with pytest.raises(DataError, match="at least 10 labelled answers"):
        fit_calibration([{"span_score": 0.5}] * 9, [1.0] * 9, [True] * 9, reader_identity="sentence",
                        fitted_on="test", features=("span_score",))
    assert main(["calibrate", "--model", str(tmp_path), "--tune", "x.json", "--limit", "0"]) == 2
    assert "--limit must be >= 1" in capsys.readouterr().err
