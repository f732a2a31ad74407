"""Training the reader: labels land on the answer tokens, runs checkpoint/resume, exports fp16."""

import json

import numpy as np
import pytest
from safetensors import safe_open

from bot.training.reader import TrainConfig, build_features, epoch_batches, export_checkpoint, train_reader
from bot.evaluation.squad import SquadExample


def _example(context, question, answer):
    return SquadExample("id", "T", context, question, (answer,), (context.index(answer),), 0)


def test_answer_tokens_are_labelled_in_every_window_that_holds_them(tiny_qa_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_qa_model))
    context = " ".join(f"Filler sentence number {i}." for i in range(30)) + " The treasure is buried under the old oak."
    feats = build_features([_example(context, "Where is the treasure?", "under the old oak")], tok, 48, 16)
    assert len(feats.input_ids) > 3  # the context needed several windows
    labelled = [i for i, s in enumerate(feats.start_positions) if s > 0]
    assert labelled, "the window with the answer must be labelled"
    for i in labelled:
        tokens = feats.input_ids[i][feats.start_positions[i]: feats.end_positions[i] + 1]
        assert tok.decode(tokens) == "under the old oak"
    assert feats.start_positions[0] == 0  # the first windows do not hold it: [CLS]


def test_batches_are_deterministic_and_cover_every_window():
    lengths = np.arange(1000) % 37
    a = epoch_batches(lengths, 16, seed=3, epoch=0)
    assert [list(x) for x in a] == [list(x) for x in epoch_batches(lengths, 16, seed=3, epoch=0)]
    assert sorted(np.concatenate(a).tolist()) == list(range(1000))
    assert [list(x) for x in a] != [list(x) for x in epoch_batches(lengths, 16, seed=3, epoch=1)]


def _tiny_run(tmp_path, base_model, context: str, pairs: list[tuple[str, str]], **settings) -> TrainConfig:
    """A two-epoch training config over one paragraph's question/answer pairs, written as SQuAD JSON."""
    squad = {"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": context, "qas": [
        {"id": f"q{i}", "question": q, "answers": [{"text": a, "answer_start": context.index(a)}]}
        for i, (q, a) in enumerate(pairs)]}]}]}
    data = tmp_path / "train.json"
    data.write_text(json.dumps(squad))
    return TrainConfig(train_files=[str(data)], output_dir=str(tmp_path / "out"), work_dir=str(tmp_path / "work"),
                       base_model=str(base_model), epochs=2, batch_size=4, max_length=48, stride=16,
                       learning_rate=1e-3, **settings)


def test_training_checkpoints_resumes_and_exports_fp16(tmp_path, tiny_qa_model):
    config = _tiny_run(tmp_path, tiny_qa_model, "The lighthouse on the cape was built in 1874 by the harbour board.",
                       [("When was the lighthouse built?", "1874"), ("Who built the lighthouse?", "the harbour board"),
                        ("Where is the lighthouse?", "on the cape")] * 4, save_every=2)
    config.stop_at_step = 3  # an intermediate model, as if the run had been cut short
    mid = json.loads((train_reader(config, log=lambda m: None) / "training_config.json").read_text())
    assert mid["extra"]["exported_step"] == 3 and "step 6/6" not in (tmp_path / "work" / "train.log").read_text()
    config.stop_at_step = None
    out = train_reader(config, log=lambda m: None)
    log = (tmp_path / "work" / "train.log").read_text()
    assert "step 6/6" in log and "exported_step" not in (out / "training_config.json").read_text()
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        assert {str(f.get_tensor(k).dtype) for k in f.keys()} == {"torch.float16"}
    assert (out / "tokenizer.json").exists() and (tmp_path / "work" / "epoch-1").exists()
    assert json.loads((out / "tokenizer.json").read_text())["truncation"] is None  # no training state shipped
    # a second run finds the finished checkpoint and trains no further
    train_reader(config, log=lambda m: None)
    assert (tmp_path / "work" / "train.log").read_text().count("step 6/6") == 1
    config.output_dir = str(tmp_path / "mid")
    assert (export_checkpoint(config) / "model.safetensors").exists()


def test_a_run_goes_on_from_its_unfinished_export_when_the_checkpoint_is_lost(tmp_path, tiny_qa_model):
    import shutil

    from bot.errors import DataError

    config = _tiny_run(tmp_path, tiny_qa_model, "The ferry leaves the north pier at seven and returns at noon.",
                       [("When does the ferry leave?", "at seven"), ("Where does the ferry leave from?", "the north pier")] * 6,
                       save_every=100, stop_at_step=2)
    train_reader(config, log=lambda m: None)
    shutil.rmtree(tmp_path / "work")  # the checkpoint is gone; the step-2 export survives
    shutil.copytree(tmp_path / "out", tmp_path / "step2")

    other = TrainConfig(**{**config.__dict__, "seed": 99, "stop_at_step": None, "continue_from": str(tmp_path / "step2")})
    with pytest.raises(DataError, match="other settings"):
        train_reader(other, log=lambda m: None)

    config.stop_at_step, config.continue_from = None, str(tmp_path / "step2")
    messages = []
    out = train_reader(config, log=messages.append)
    assert any("continued from the step-2 export" in m for m in messages)
    assert "step 6/6" in (tmp_path / "work" / "train.log").read_text()  # the full run's schedule, finished
    saved = json.loads((out / "training_config.json").read_text())
    assert saved["extra"] == {"continued_from_step": 2}
    config.continue_from = str(out)
    shutil.rmtree(tmp_path / "work")
    with pytest.raises(DataError, match="finished run"):
        train_reader(config, log=lambda m: None)


def test_resuming_with_other_settings_is_refused_and_an_export_keeps_the_folders_other_files(tmp_path, tiny_qa_model):
    from bot.errors import DataError

    config = _tiny_run(tmp_path, tiny_qa_model, "The ferry leaves the north pier at seven and returns at noon.",
                       [("When does the ferry leave?", "at seven"), ("Where does it leave from?", "the north pier")] * 4,
                       stop_at_step=1)
    out = train_reader(config, log=lambda m: None)
    (out / "training_config.stage1.json").write_text("{}")  # an earlier stage's record, kept by the export
    changed = TrainConfig(**{**config.__dict__, "learning_rate": 0.5, "stop_at_step": None})
    with pytest.raises(DataError, match=r"other settings \(learning_rate 0.001 -> 0.5\)"):
        train_reader(changed, log=lambda m: None)
    config.stop_at_step = None
    out = train_reader(config, log=lambda m: None)
    assert (out / "training_config.stage1.json").read_text() == "{}"
    assert "exported_step" not in json.loads((out / "training_config.json").read_text()).get("extra", {})


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path, tiny_qa_model):
    import torch
    from safetensors.torch import load_file

    pairs = [("When does the ferry leave?", "at seven"), ("Where does it leave from?", "the north pier")] * 4
    context = "The ferry leaves the north pier at seven and returns at noon."
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    whole = _tiny_run(tmp_path / "a", tiny_qa_model, context, pairs)
    straight = load_file(str(train_reader(whole, log=lambda m: None) / "model.safetensors"))
    cut = _tiny_run(tmp_path / "b", tiny_qa_model, context, pairs, stop_at_step=2)
    train_reader(cut, log=lambda m: None)
    torch.manual_seed(12345)  # whatever happened in between, the checkpoint brings the generators back
    cut.stop_at_step = None
    resumed = load_file(str(train_reader(cut, log=lambda m: None) / "model.safetensors"))
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
