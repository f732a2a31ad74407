"""Multi-passage reader training: groups built with the bot's own chunker and retriever, window
labels, whole-group batches, the shared-normalisation loss, and a tiny run end to end."""

import json
import math

import pytest
import torch

from bot.errors import DataError
from bot.evaluation.squad import SquadExample
from bot.training.passage_groups import GroupSpec, Group, Passage, load_examples, make_groups
from bot.training.shared_norm import (
    MultiPassageConfig, collate_groups, distillation_loss, group_batches, shared_norm_loss, train_multi_passage,
    window_groups,
)
from tests.conftest import FakeEmbedder

LAKE = ("Lake Baikal is the deepest lake in the world. It lies in Siberia, north of the Mongolian border. "
        "The lake holds about a fifth of the unfrozen fresh water on the planet. ") * 3
RIVER = ("The Angara is the only river flowing out of Lake Baikal. It joins the Yenisei near Strelka. "
         "Its water is cold and clear all year. ") * 3
SHORE = "Irkutsk is the largest city near the lake. The Trans-Siberian railway follows the southern shore. " * 3


def _squad(tmp_path, qas_by_paragraph, version="1.1"):
    paragraphs = [{"context": c, "qas": qas} for c, qas in qas_by_paragraph]
    path = tmp_path / f"train-{version}.json"
    path.write_text(json.dumps({"version": version, "data": [{"title": "Lake_Baikal", "paragraphs": paragraphs}]}))
    return path


def _qa(qid, question, context, answer):
    return {"id": qid, "question": question, "answers": [{"text": answer, "answer_start": context.index(answer)}]}


@pytest.fixture
def train_files(tmp_path):
    answerable = _squad(tmp_path, [
        (LAKE, [_qa("a1", "Where does Lake Baikal lie?", LAKE, "in Siberia"),
                _qa("a2", "How much fresh water does the lake hold?", LAKE, "about a fifth")]),
        (RIVER, [_qa("a3", "Which river flows out of Lake Baikal?", RIVER, "The Angara"),
                 _qa("a4", "Where does the Angara join the Yenisei?", RIVER, "near Strelka")]),
        (SHORE, [_qa("a5", "Which is the largest city near the lake?", SHORE, "Irkutsk")]),
    ])
    negatives = _squad(tmp_path, [(SHORE, [{"id": "n1", "question": "When was Irkutsk founded?", "answers": [],
                                            "is_impossible": True}])], version="2.0")
    return [str(answerable), str(negatives)]


def _groups(train_files, **spec):
    answerable, unanswerable = load_examples(train_files)
    return make_groups(answerable, unanswerable, FakeEmbedder(), GroupSpec(chunk_size=200, chunk_overlap=50, **spec),
                       log=lambda m: None)


def test_a_retrieved_group_holds_the_gold_passage_among_distractors_of_the_same_article(train_files):
    groups = _groups(train_files, gold_share=0.0, removed_share=0.0, unanswerable_alone_share=0.0)
    retrieved = [g for g in groups if g.kind == "retrieved"]
    assert len(retrieved) == 5 and {g.kind for g in groups} == {"retrieved", "unanswerable"}
    for g in retrieved:
        assert len(g.passages) == 3
        gold = [p for p in g.passages if p.answer]
        assert len(gold) == 1
        start, end = gold[0].answer
        assert gold[0].text[start:end] in {"in Siberia", "about a fifth", "The Angara", "near Strelka", "Irkutsk"}
        # a distractor never contains the answer text (it would teach the model to avoid a right answer)
        answer = gold[0].text[start:end]
        assert all(answer not in p.text for p in g.passages if not p.answer)
    unanswerable = [g for g in groups if g.kind == "unanswerable"]
    assert len(unanswerable) == 1 and not unanswerable[0].answerable
    assert any("Irkutsk is the largest city" in p.text for p in unanswerable[0].passages)  # its own paragraph


def test_removed_groups_hold_no_passage_with_the_answer(train_files):
    groups = _groups(train_files, gold_share=0.0, removed_share=1.0)
    removed = [g for g in groups if g.kind == "removed"]
    assert removed and all(not g.answerable for g in removed)
    answers = {"Where does Lake Baikal lie?": "in Siberia", "Which river flows out of Lake Baikal?": "The Angara"}
    for g in removed:
        if g.question in answers:
            assert all(answers[g.question] not in p.text for p in g.passages)


def test_altered_questions_become_unanswerable_groups_read_with_their_own_paragraph(train_files):
    from bot.training.altered_questions import altered_questions

    answerable, unanswerable = load_examples(train_files)
    altered = altered_questions(answerable, 10, seed=0, donors_from=answerable + [
        SquadExample("x", "Rivers", "The Danube is long.", "How long is the Danube?", ("long",), (14,), 9)])
    assert altered
    groups = make_groups(answerable, unanswerable, FakeEmbedder(),
                         GroupSpec(chunk_size=200, chunk_overlap=50, unanswerable_alone_share=0.0),
                         log=lambda m: None, altered=altered)
    made = [g for g in groups if g.kind == "altered"]
    assert len(made) == len(altered) and all(not g.answerable for g in made)
    by_question = {e.question: e for e in altered}
    for g in made:
        own = by_question[g.question].context
        assert any(p.text in own for p in g.passages)  # the paragraph it was altered against stays in
    assert sum(g.kind == "unanswerable" for g in groups) == 1  # the real one keeps its kind


def test_windows_are_labelled_on_the_answer_tokens_and_cls_elsewhere(tiny_qa_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_qa_model))
    groups = [
        Group("Which river flows out?", [Passage(LAKE), Passage(RIVER, (RIVER.index("The Angara"), RIVER.index("The Angara") + 10))],
              "retrieved"),
        Group("When was Irkutsk founded?", [Passage(SHORE)], "unanswerable"),
    ]
    data = window_groups(groups, tok, max_length=48, stride=16)
    assert data.answerable == [True, False]
    assert sorted(w for ws in data.group_windows for w in ws) == list(range(len(data.input_ids)))
    labelled = [w for w in data.group_windows[0] if data.start_positions[w] > 0]
    assert labelled and all(data.group_of[w] == 0 for w in labelled)
    for w in labelled:
        tokens = data.input_ids[w][data.start_positions[w]: data.end_positions[w] + 1]
        assert tok.decode(tokens) == "the angara"
    assert all(data.start_positions[w] == 0 for w in data.group_windows[1])
    assert len(data.group_windows[0]) > 2  # several windows of two passages share one group


def test_batches_hold_whole_groups_deterministically(tiny_qa_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_qa_model))
    groups = [Group(f"Question {i}?", [Passage(LAKE[: 40 + 7 * i]), Passage(SHORE)], "unanswerable") for i in range(23)]
    data = window_groups(groups, tok, 48, 16)
    a = group_batches(data, 4, seed=1, epoch=0)
    assert a == group_batches(data, 4, seed=1, epoch=0) and a != group_batches(data, 4, seed=1, epoch=1)
    assert sorted(g for b in a for g in b) == list(range(23))
    batch = collate_groups(data, a[0], tok.pad_token_id)
    assert batch["input_ids"].shape[0] == sum(len(data.group_windows[g]) for g in a[0])
    assert batch["group"].max().item() == len(a[0]) - 1
    assert batch["candidates"][:, 0].all()  # [CLS] is always a candidate ("no answer")


def test_the_loss_is_one_softmax_over_all_windows_of_a_question():
    # Two windows of one question, 4 positions each ([CLS] + 3 passage tokens); the answer is in window 1.
    start = torch.tensor([[1.0, 0.5, 2.0, -1.0], [0.0, 3.0, 0.2, 0.1]])
    end = torch.tensor([[0.5, 0.0, 1.0, 1.0], [0.0, 0.3, 2.5, 0.1]])
    batch = {"candidates": torch.ones(2, 4, dtype=torch.bool), "group": torch.tensor([0, 0]),
             "start": torch.tensor([0, 1]), "end": torch.tensor([0, 2]), "answerable": torch.tensor([True])}
    loss = shared_norm_loss(start, end, batch)
    expected = (torch.logsumexp(start.flatten(), 0) - start[1, 1] + torch.logsumexp(end.flatten(), 0) - end[1, 2]) / 2
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    # Unanswerable: the gold is every window's [CLS] together.
    batch = dict(batch, start=torch.tensor([0, 0]), end=torch.tensor([0, 0]), answerable=torch.tensor([False]))
    loss = shared_norm_loss(start, end, batch)
    lse = lambda v: math.log(sum(math.exp(x) for x in v))
    expected = ((lse(start.flatten().tolist()) - lse([1.0, 0.0])) + (lse(end.flatten().tolist()) - lse([0.5, 0.0]))) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_distillation_holds_answerable_groups_to_the_teacher_and_leaves_the_others_free():
    # Group 0 (answerable): two windows; group 1 (unanswerable): one window. Position 3 of window 0
    # is padding, never a candidate.
    candidates = torch.tensor([[True, True, True, False], [True, True, True, True], [True, True, True, True]])
    batch = {"candidates": candidates, "group": torch.tensor([0, 0, 1]), "answerable": torch.tensor([True, False])}
    teacher = (torch.tensor([[0.0, 2.0, 1.0, 9.0], [0.5, 0.1, 0.0, 0.3], [0.0, 1.0, 1.0, 1.0]]),) * 2
    assert distillation_loss(teacher, teacher, batch).item() == pytest.approx(0.0, abs=1e-7)
    # Changing only the unanswerable group, or the padding, costs nothing.
    other = teacher[0].clone()
    other[2] = torch.tensor([5.0, -3.0, 0.0, 2.0])
    other[0, 3] = -9.0
    assert distillation_loss((other, other), teacher, batch).item() == pytest.approx(0.0, abs=1e-7)
    # Moving the answerable group's mass costs KL(teacher || student) over its candidates, per group.
    moved = teacher[0].clone()
    moved[1, 1] = 4.0
    t = torch.log_softmax(torch.tensor([0.0, 2.0, 1.0, 0.5, 0.1, 0.0, 0.3]), 0)
    s = torch.log_softmax(torch.tensor([0.0, 2.0, 1.0, 0.5, 4.0, 0.0, 0.3]), 0)
    # start and end count half each (only start moved), and the sum is divided by the 2 groups
    expected = (t.exp() * (t - s)).sum().item() / 2 / 2
    assert distillation_loss((moved, teacher[1]), teacher, batch).item() == pytest.approx(expected, rel=1e-5)


def assert_finite_losses(work) -> None:
    """The run logged its losses, and every one is a finite number."""
    lines = (work / "train.log").read_text().splitlines()
    losses = [float(line.split(" loss ")[1].split()[0]) for line in lines]
    assert losses and all(math.isfinite(x) for x in losses)


def test_a_tiny_multi_passage_run_trains_resumes_and_exports(tmp_path, train_files, tiny_qa_model):
    from safetensors import safe_open

    config = MultiPassageConfig(
        train_files=train_files, output_dir=str(tmp_path / "out"), base_model=str(tiny_qa_model),
        work_dir=str(tmp_path / "work"), epochs=3, groups_per_batch=2, learning_rate=1e-3, max_length=64, stride=16,
        save_every=2, groups=GroupSpec(chunk_size=200, chunk_overlap=50), stop_at_step=2)
    mid = train_multi_passage(config, log=lambda m: None, embedder=FakeEmbedder())
    assert json.loads((mid / "training_config.json").read_text())["extra"]["exported_step"] == 2
    config.stop_at_step = None
    logs = []
    out = train_multi_passage(config, log=logs.append, embedder=FakeEmbedder())
    assert "resumed from step 2" in logs
    record = json.loads((out / "training_config.json").read_text())
    assert "exported_step" not in record["extra"] and record["groups"]["read_k"] == 3
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        assert all(f.get_tensor(k).dtype == torch.float16 for k in f.keys())
    assert_finite_losses(tmp_path / "work")


def test_a_tiny_run_with_altered_questions_and_a_teacher_records_both(tmp_path, train_files, tiny_qa_model):
    config = MultiPassageConfig(
        train_files=train_files, output_dir=str(tmp_path / "out"), base_model=str(tiny_qa_model),
        work_dir=str(tmp_path / "work"), epochs=1, groups_per_batch=2, learning_rate=1e-3, max_length=64, stride=16,
        groups=GroupSpec(chunk_size=200, chunk_overlap=50, altered=3), distil_from=str(tiny_qa_model))
    logs = []
    out = train_multi_passage(config, log=logs.append, embedder=FakeEmbedder())
    record = json.loads((out / "training_config.json").read_text())
    assert record["distil_from"] == str(tiny_qa_model) and record["groups"]["altered"] == 3
    built = next(m for m in logs if m.startswith("built "))
    assert "'altered" in built  # altered questions became groups of their own kind
    assert_finite_losses(tmp_path / "work")

    # The work folder's windows and checkpoint belong to these groups: other group settings are
    # refused, not trained on the old groups.
    other = MultiPassageConfig(**{**config.__dict__, "groups": GroupSpec(chunk_size=200, chunk_overlap=50, altered=5)})
    with pytest.raises(DataError, match=r"other settings \(altered 3 -> 5\): use a fresh --work-dir"):
        train_multi_passage(other, log=lambda m: None, embedder=FakeEmbedder())


def test_batched_losses_match_each_group_computed_on_its_own():
    # Five groups of 1-3 windows, some answerable, with padding that is never a candidate: the
    # losses over the whole batch equal the mean of each group's loss computed alone, and their
    # gradients stay finite at the padding.
    gen = torch.Generator().manual_seed(3)
    windows_per_group, answerable = [2, 1, 3, 1, 2], [True, False, True, True, False]
    group = torch.tensor([g for g, n in enumerate(windows_per_group) for _ in range(n)])
    n, width = len(group), 6
    candidates = torch.ones(n, width, dtype=torch.bool)
    candidates[:, 4:] = torch.rand(n, 2, generator=gen) > 0.5  # ragged padding
    start_gold, end_gold = torch.zeros(n, dtype=torch.long), torch.zeros(n, dtype=torch.long)
    for row in (0, 3, 4, 6):  # one labelled window in each answerable group (two in group 2)
        start_gold[row], end_gold[row] = 1, 2
    batch = {"candidates": candidates, "group": group, "start": start_gold, "end": end_gold,
             "answerable": torch.tensor(answerable)}
    start = torch.randn(n, width, generator=gen, requires_grad=True)
    end = torch.randn(n, width, generator=gen, requires_grad=True)

    def alone(g):
        rows = group == g
        part = {"candidates": candidates[rows], "group": torch.zeros(int(rows.sum()), dtype=torch.long),
                "start": start_gold[rows], "end": end_gold[rows], "answerable": torch.tensor([answerable[g]])}
        return part, start[rows], end[rows]

    per_group = [shared_norm_loss(s, e, part) for part, s, e in map(alone, range(5))]
    batched = shared_norm_loss(start, end, batch)
    assert batched.item() == pytest.approx(torch.stack(per_group).mean().item(), rel=1e-6)
    teacher = (torch.randn(n, width, generator=gen), torch.randn(n, width, generator=gen))
    kl = distillation_loss((start, end), teacher, batch)
    kl_alone = sum(distillation_loss((s, e), (teacher[0][group == g], teacher[1][group == g]), part).item()
                   for g, (part, s, e) in enumerate(map(alone, range(5))))
    assert kl.item() > 0 and kl.item() == pytest.approx(kl_alone / 5, rel=1e-5)
    (batched + kl).backward()
    assert torch.isfinite(start.grad).all() and torch.isfinite(end.grad).all()
