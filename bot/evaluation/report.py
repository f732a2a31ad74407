"""Output of an evaluation run: the terminal summary and the --out folder (metrics.json,
results.jsonl and a self-contained report.html with embedded PNG charts).

The folder is written atomically: everything is built in a hidden temporary folder first and
moved into place only when complete, so an interrupted or failed run never leaves files that
look finished. Most of its length is the HTML page and its charts.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from bot.errors import UsageError
from bot.evaluation import metrics
from bot.evaluation import STAGES, EvalRun, QuestionResult

OUTPUT_FILES = ("results.jsonl", "report.html", "metrics.json")  # metrics.json last: it marks completion
LISTED_PER_STAGE = 25

STAGE_HELP = {
    "not_retrieved": "answerable, but no retrieved passage holds the gold answer or evidence",
    "misread": f"the passage with the answer was retrieved (or given), but the answer has F1 < {metrics.FAILURE_F1:g}",
    "wrongly_refused": "answerable and the passage was there, but the bot said the documents do not hold it",
    "answered_unanswerable": "the documents do not hold the answer, but the bot gave one",
}
MODE_HELP = {
    "corpus": "questions asked of the configured documents, like a user would",
    "squad-open": "every paragraph of the file is a document; each question is asked of all of them",
    "gold-context": "reader only: each question is read against its own paragraph (no retrieval)",
}


# ----- terminal -----

def _num(value, digits: int = 1, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def summary_text(run: EvalRun) -> str:
    m = run.metrics
    ha, na = m["has_answer"], m["no_answer"]
    sample = f" (sample of {m['n_available']}, seed {m['seed']})" if m["n"] < m["n_available"] else ""
    lines = [
        f"{run.dataset.path.name}: {m['n']} questions{sample}, {m['format']}, {run.mode} mode, {m['elapsed_s']:.1f} s",
        f"reader {m['reader']} · threshold {m['threshold']:.2f}" + (f" · top_k {m['top_k']}" if m["top_k"] else ""),
        "",
        f"  {'':14}{'n':>6}{'EM':>8}{'F1':>8}   refused",
        f"  {'all':14}{m['n']:>6}{_num(m['exact_match']):>8}{_num(m['f1']):>8}   {m['n'] - m['answered']}",
        f"  {'answerable':14}{ha['n']:>6}{_num(ha['exact_match']):>8}{_num(ha['f1']):>8}   "
        f"{ha['refused']} ({_num(ha['refused_pct'], 1, '%')} wrongly)",
    ]
    if na["n"]:
        lines.append(f"  {'unanswerable':14}{na['n']:>6}{'':>8}{'':>8}   {na['refused']} "
                     f"({_num(na['refused_pct'], 1, '%')} correctly)")
    lines.append("")
    r = m["retrieval"]
    if r:
        lines.append(f"  retrieval  recall@1 {_num(r['recall@1'])}  @3 {_num(r['recall@3'])}  "
                     f"@5 {_num(r['recall@5'])}  MRR {_num(r['mrr'], 3)}")
        g = r.get("gold_paragraph")
        if g:
            lines.append(f"  gold paragraph  recall@1 {_num(g['recall@1'])}  @3 {_num(g['recall@3'])}  "
                         f"@5 {_num(g['recall@5'])}  MRR {_num(g['mrr'], 3)}")
    if m["citation_accuracy"] is not None:
        lines.append(f"  citations  {_num(m['citation_accuracy'], 1, '%')} of {m['citations_checked']} answers "
                     "quote a sentence holding the gold")
    lat = m["latency_ms"]
    stages = ", ".join(f"{k} {_num(v['p50'], 0)}/{_num(v['p95'], 0)}" for k, v in lat.items() if isinstance(v, dict))
    lines.append(f"  latency    p50 {_num(lat['p50'], 0)} ms  p95 {_num(lat['p95'], 0)} ms  (p50/p95: {stages})")
    f = m["failures"]
    parts = ", ".join(f"{s} {f[s]}" for s in STAGES if f[s])
    lines.append(f"  failures   {f['total']}" + (f": {parts}" if parts else ""))
    if m["invalid"]["skipped"]:
        lines.append(f"  skipped    {m['invalid']['skipped']} invalid line(s)")
    return "\n".join(lines)


# ----- files -----

def result_record(r: QuestionResult) -> dict:
    data = asdict(r)
    data["answers"] = list(r.answers)
    for key in ("score", "em", "f1", "answer_f1"):
        data[key] = round(data[key], 4)
    data["features"] = {k: round(v, 4) for k, v in r.features.items()}
    data["timings_ms"] = {k: round(v, 2) for k, v in r.timings_ms.items()}
    return data


def check_output_folder(out_dir: str | Path) -> None:
    """Raise UsageError now if write_outputs could not write there, so a long run is not lost at
    the end: a file on the way, or a folder that cannot be written to."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    existing = out if out.exists() else next(p for p in out.absolute().parents if p.exists())
    if not existing.is_dir():
        raise UsageError(f"--out {out}: {existing} is a file, not a folder")
    _check_output_names(out)
    try:  # what write_outputs does first: a temporary folder in the nearest existing folder
        os.rmdir(tempfile.mkdtemp(prefix=".bot-eval-check.", dir=existing))
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write in {existing} ({exc.strerror or exc})") from None


def _check_output_names(out: Path) -> None:
    """An output's name taken by a folder (or anything not a file) in `out`: write_outputs replaces
    the files one by one, and would stop half-way with the others already replaced."""
    for name in OUTPUT_FILES:
        path = out / name
        if path.exists() and not path.is_file():
            raise UsageError(f"--out {out}: {path} exists and is not a file (move it away, or choose another --out)")


def write_outputs(run: EvalRun, out_dir: str | Path) -> Path:
    """Write metrics.json, results.jsonl and report.html into out_dir, all or nothing."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} exists and is not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = not out.exists()
    # Next to a new folder (renamed as a whole), inside an existing one (files moved one by one;
    # other files there are left alone).
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent if fresh else out))
    try:
        with (tmp / "results.jsonl").open("w", encoding="utf-8") as f:
            for r in run.results:
                f.write(json.dumps(result_record(r), ensure_ascii=False) + "\n")
        (tmp / "report.html").write_text(render_html(run), encoding="utf-8")
        (tmp / "metrics.json").write_text(json.dumps(run.metrics, indent=2, ensure_ascii=False), encoding="utf-8")
        if fresh:
            tmp.chmod(0o755)
            os.replace(tmp, out)
        else:
            _check_output_names(out)  # again: the run took a while, and all are replaced or none
            for name in OUTPUT_FILES:
                os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# ----- charts -----

def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float, ncols: int = 1):
    from matplotlib.figure import Figure  # the Agg canvas, without pyplot's global state

    fig = Figure(figsize=(width, height))
    axes = fig.subplots(1, ncols)
    return fig, axes


def f1_histogram(run: EvalRun) -> str | None:
    answerable = [r for r in run.results if r.answerable]
    if not answerable:
        return None
    fig, ax = _figure(6.4, 3.4)
    bins = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100.001]
    answered = [r.f1 for r in answerable if not r.refused]
    refused = [0.0 for r in answerable if r.refused]
    ax.hist([answered, refused], bins=bins, stacked=True, color=["#3b7dd8", "#c9c9c9"],
            label=[f"answered ({len(answered)})", f"refused ({len(refused)}, scored 0)"], edgecolor="white")
    ax.axvline(metrics.FAILURE_F1, color="#b33", linestyle="--", linewidth=1,
               label=f"F1 {metrics.FAILURE_F1:g}: below counts as a failure")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)  # room for the legend above the bars
    ax.set_xlabel("F1 of the answer against the best gold answer (%)")
    ax.set_ylabel("answerable questions")
    ax.set_title("Answer F1 per answerable question")
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    return _png(fig)


def coverage_points(run: EvalRun) -> list[metrics.CurvePoint]:
    r = run.results
    return metrics.coverage_curve([x.score for x in r], [x.answer_f1 for x in r], [x.answerable for x in r],
                                  [x.has_span for x in r])


def coverage_chart(run: EvalRun, points: list[metrics.CurvePoint]) -> str | None:
    if not run.results:
        return None
    fig, (left, right) = _figure(11, 3.8, ncols=2)
    usable = [p for p in points if p.accuracy is not None]
    current = metrics.coverage_curve([x.score for x in run.results], [x.answer_f1 for x in run.results],
                                     [x.answerable for x in run.results], [x.has_span for x in run.results],
                                     thresholds=[run.threshold])[0]
    if usable:
        left.plot([p.coverage for p in usable], [p.accuracy for p in usable], color="#3b7dd8", linewidth=2)
        last = None
        for p in usable:
            if round(p.threshold * 10, 6) % 1 or not 0 < p.threshold < 1:
                continue  # label 0.1 ... 0.9 only
            if last and abs(p.coverage - last.coverage) < 6 and abs(p.accuracy - last.accuracy) < 6:
                continue  # too close to the previous label to read
            left.plot(p.coverage, p.accuracy, "o", color="#3b7dd8", markersize=3)
            left.annotate(f"{p.threshold:.1f}", (p.coverage, p.accuracy), fontsize=7,
                          xytext=(3, 4), textcoords="offset points", color="#555")
            last = p
    if current.accuracy is not None:
        left.plot(current.coverage, current.accuracy, "o", color="#d33", markersize=7,
                  label=f"current threshold {run.threshold:.2f}")
        left.legend(frameon=False, fontsize=8, loc="lower left")
    left.set_xlim(0, 100)
    left.set_ylim(0, 100)
    left.set_xlabel("coverage: questions answered (%)")
    left.set_ylabel("accuracy: mean F1 of answered (%)")
    left.set_title("Coverage vs accuracy (labels: threshold)")

    xs = [p.threshold for p in points]
    right.plot(xs, [p.coverage for p in points], label="coverage (% answered)", color="#888")
    right.plot(xs, [p.accuracy if p.accuracy is not None else float("nan") for p in points],
               label="accuracy (F1 of answered)", color="#3b7dd8")
    right.plot(xs, [p.overall_f1 for p in points], label="overall F1 (refusals scored)", color="#2a9d58")
    right.axvline(run.threshold, color="#d33", linestyle="--", linewidth=1)
    right.set_xlim(0, 1)
    right.set_ylim(0, 100)
    right.set_xlabel("threshold on the answer score")
    right.set_ylabel("%")
    right.set_title("What each threshold would give")
    right.legend(frameon=False, fontsize=8, loc="best")
    return _png(fig)


def latency_chart(run: EvalRun) -> str | None:
    totals = [r.timings_ms.get("total") for r in run.results if r.timings_ms.get("total") is not None]
    if not totals:
        return None
    fig, ax = _figure(6.4, 3.4)
    ax.hist(totals, bins=30, color="#8a6fc9", edgecolor="white")
    for q, style in ((50, "-"), (95, "--")):
        value = metrics.percentile(totals, q)
        ax.axvline(value, color="#333", linestyle=style, linewidth=1, label=f"p{q} {value:.0f} ms")
    ax.set_xlim(0, max(totals) * 1.08)  # from 0, so a narrow spread is not magnified
    ax.set_xlabel("time per question (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Latency per question")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.25)  # room for the legend above the bars
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return _png(fig)


# ----- HTML -----

def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _img(data: str | None, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">' if data else "<p class=muted>no data</p>"


def _highlight(text: str, marks: list[tuple[str, str]], width: int = 700) -> str:
    """Escape text, marking the first occurrence of each (needle, css class); a long text is cut
    to a window around the first mark."""
    spans: list[tuple[int, int, str]] = []
    lower = text.lower()
    for needle, cls in marks:
        needle = needle.strip()
        at = lower.find(needle.lower()) if needle else -1
        if at >= 0 and not any(s < at + len(needle) and at < e for s, e, _ in spans):
            spans.append((at, at + len(needle), cls))
    spans.sort()
    lo, hi = 0, len(text)
    if len(text) > width:
        centre = spans[0][0] if spans else 0
        lo = max(0, min(centre - width // 2, len(text) - width))
        hi = lo + width
        spans = [s for s in spans if s[0] >= lo and s[1] <= hi]
    out, pos = ["\u2026" if lo else ""], lo
    for s, e, cls in spans:
        out.append(_e(text[pos:s]) + f'<mark class="{cls}">{_e(text[s:e])}</mark>')
        pos = e
    out.append(_e(text[pos:hi]) + ("\u2026" if hi < len(text) else ""))
    return "".join(out)


def _row(*cells, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


def _summary_table(m: dict) -> str:
    ha, na, r = m["has_answer"], m["no_answer"], m["retrieval"]
    rows = [
        _row("figure", "value", "what it means", header=True),
        _row("Exact match", _num(m["exact_match"]), "% of questions answered exactly (unanswerable: refusing counts as right)"),
        _row("F1", _num(m["f1"]), "mean word overlap with the best gold answer, %"),
        _row("Answerable questions", ha["n"], ""),
        _row("&nbsp;&nbsp;exact match / F1", f"{_num(ha['exact_match'])} / {_num(ha['f1'])}", "refusals score 0"),
        _row("&nbsp;&nbsp;wrongly refused", f"{ha['refused']} ({_num(ha['refused_pct'], 1, '%')})",
             "said the documents do not hold the answer"),
    ]
    if na["n"]:
        rows += [
            _row("Unanswerable questions", na["n"], ""),
            _row("&nbsp;&nbsp;correctly refused", f"{na['refused']} ({_num(na['refused_pct'], 1, '%')})", ""),
        ]
    if r:
        rows += [
            _row("Retrieval recall @1 / @3 / @5",
                 f"{_num(r['recall@1'])} / {_num(r['recall@3'])} / {_num(r['recall@5'])}",
                 "% of answerable questions with the gold answer or evidence in the top 1 / 3 / 5 passages"),
            _row("Mean reciprocal rank", _num(r["mrr"], 3), "1 = the first passage always holds the answer"),
        ]
        g = r.get("gold_paragraph")
        if g:
            rows.append(_row("Gold-paragraph recall @1 / @3 / @5",
                             f"{_num(g['recall@1'])} / {_num(g['recall@3'])} / {_num(g['recall@5'])}",
                             "% of questions whose own paragraph is among the top 1 / 3 / 5 passages"))
    if m["citation_accuracy"] is not None:
        rows.append(_row("Citation accuracy", f"{_num(m['citation_accuracy'], 1, '%')} of {m['citations_checked']}",
                         "answers whose quoted source sentence holds the gold answer or evidence"))
    lat = m["latency_ms"]
    rows.append(_row("Latency p50 / p95", f"{_num(lat['p50'], 0)} / {_num(lat['p95'], 0)} ms",
                     "time per question (a share of batched work; see Latency)"))
    return "<table>" + "".join(rows) + "</table>"


def _failure_table(m: dict) -> str:
    n = m["n"] or 1
    rows = [_row("stage", "questions", "share of all", "meaning", header=True)]
    for stage in STAGES:
        count = m["failures"][stage]
        if (stage == "not_retrieved" and m["retrieval"] is None) or (
                stage == "answered_unanswerable" and not m["no_answer"]["n"]):
            continue  # cannot happen in this run
        rows.append(_row(f'<a href="#{stage}">{stage.replace("_", " ")}</a>' if count else stage.replace("_", " "),
                         count, f"{100 * count / n:.1f}%", _e(STAGE_HELP[stage])))
    rows.append(_row("<b>total</b>", f"<b>{m['failures']['total']}</b>", f"{100 * m['failures']['total'] / n:.1f}%", ""))
    return "<table>" + "".join(rows) + "</table>"


def _threshold_table(run: EvalRun, points: list[metrics.CurvePoint]) -> str:
    wanted = {round(t / 10, 1) for t in range(1, 10)}
    rows = [_row("threshold", "answered", "accuracy (F1 of answered)", "overall F1", header=True)]
    chosen = [p for p in points if p.threshold in wanted]
    current = metrics.coverage_curve([x.score for x in run.results], [x.answer_f1 for x in run.results],
                                     [x.answerable for x in run.results], [x.has_span for x in run.results],
                                     thresholds=[run.threshold])[0]
    if all(abs(p.threshold - current.threshold) > 1e-9 for p in chosen):
        chosen.append(current)
    for p in sorted(chosen, key=lambda p: p.threshold):
        mark = " (current)" if abs(p.threshold - current.threshold) < 1e-9 else ""
        rows.append(_row(f"{p.threshold:.2f}{mark}", f"{p.coverage:.1f}%", _num(p.accuracy), _num(p.overall_f1)))
    return '<table class="compact">' + "".join(rows) + "</table>"


def _latency_table(m: dict) -> str:
    lat = m["latency_ms"]
    rows = [_row("stage", "p50 (ms)", "p95 (ms)", header=True)]
    for stage, v in lat.items():
        if isinstance(v, dict):
            rows.append(_row(stage, _num(v["p50"], 1), _num(v["p95"], 1)))
    rows.append(_row("<b>total</b>", _num(lat["p50"], 1), _num(lat["p95"], 1)))
    return '<table class="compact">' + "".join(rows) + "</table>"


def _failure_listing(run: EvalRun) -> str:
    parts = []
    for stage in STAGES:
        failed = [r for r in run.results if r.stage == stage]
        if not failed:
            continue
        more = (f" — the first {LISTED_PER_STAGE} of {len(failed)}; all are in results.jsonl"
                if len(failed) > LISTED_PER_STAGE else "")
        parts.append(f'<h3 id="{stage}">{_e(stage.replace("_", " "))} ({len(failed)}){_e(more)}</h3>'
                     f'<p class="muted">{_e(STAGE_HELP[stage])}</p>')
        for r in failed[:LISTED_PER_STAGE]:
            gold = " | ".join(r.answers) if r.answerable else "(not answerable from the documents)"
            said = (f"<mark class=pred>{_e(r.prediction)}</mark>" if not r.refused else
                    "<i>refused</i>" + (f" (would have said <mark class=pred>{_e(r.best_answer)}</mark>)"
                                        if r.best_answer else ""))
            marks = [(a, "gold") for a in r.answers] + ([(r.evidence, "gold")] if r.evidence else [])
            marks += [(r.prediction or r.best_answer, "pred")]
            passage = (f'<div class="passage"><span class="muted">{_e(r.passage_doc)}</span><br>'
                       f"{_highlight(r.passage_text, marks)}</div>" if r.passage_text else "")
            parts.append(
                f'<div class="case"><div><b>{_e(r.question)}</b> <span class="muted">[{_e(r.id)}]</span></div>'
                f"<div>gold: <mark class=gold>{_e(gold)}</mark></div>"
                f"<div>bot: {said} <span class=muted>· score {r.score:.2f} · F1 {r.f1:.1f}</span></div>"
                f"{passage}</div>"
            )
    return "".join(parts) or "<p>No failures.</p>"


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{margin-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0} th,td{border-bottom:1px solid #e5e5e5;padding:.3em .8em;text-align:left;
vertical-align:top} th{background:#f5f5f5} td:nth-child(2){white-space:nowrap;font-variant-numeric:tabular-nums}
table.compact td{font-variant-numeric:tabular-nums}
.muted{color:#777;font-size:.92em} .caption{color:#555;font-size:.92em;max-width:60em}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
.case{border-left:3px solid #ccc;padding:.3em .8em;margin:.8em 0}
.passage{background:#fafafa;padding:.4em .6em;margin-top:.3em;font-size:.93em;white-space:pre-wrap}
mark.gold{background:#cdeccf} mark.pred{background:#ffe2a8}
.row{display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start}
"""


def render_html(run: EvalRun) -> str:
    m = run.metrics
    points = coverage_points(run)
    sample = (f"a random sample of {m['n']} of {m['n_available']} questions (seed {m['seed']})"
              if m["n"] < m["n_available"] else f"all {m['n']} questions")
    meta = [
        f"{_e(m['data_file'])} ({_e(m['format'])}) · {_e(sample)}",
        f"mode <b>{_e(run.mode)}</b>: {_e(MODE_HELP[run.mode])}",
        f"reader {_e(m['reader'])} · embedding {_e(m['embedding_model'])} · abstention threshold "
        f"{m['threshold']:.2f} (calibration: {_e(m['calibration'] or 'default')})"
        + (f" · top_k {m['top_k']}" if m["top_k"] else ""),
        f"{m['elapsed_s']:.1f} s · {_e(m['created_at'])}"
        + (f" · {m['invalid']['skipped']} invalid line(s) skipped" if m["invalid"]["skipped"] else ""),
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation: {_e(run.dataset.path.name)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>
<h1>Evaluation: {_e(run.dataset.path.name)}</h1>
<p class="muted">{"<br>".join(meta)}</p>

<h2>Summary</h2>
{_summary_table(m)}

<h2>Failures</h2>
<p class="caption">Each failed question is blamed on its earliest failing stage. An answer with F1 of
{metrics.FAILURE_F1:g} or more counts as right.</p>
{_failure_table(m)}

<h2>Answer quality</h2>
{_img(f1_histogram(run), "histogram of answer F1")}
<p class="caption">How close each answer is to the gold answer: bars on the right are good answers,
grey bars are questions the bot refused although the documents hold the answer.</p>

<h2>Choosing an abstention threshold</h2>
{_img(coverage_chart(run, points), "coverage versus accuracy")}
<p class="caption">The bot answers only when its answer score is at least the threshold. Raising the
threshold answers fewer questions (coverage) but the answers given are more often right (accuracy);
answering a question the documents cannot answer counts as F1 0. The red point / dashed line is the
threshold used in this run. Set another with <code>--threshold</code> or <code>BOT_ABSTAIN_THRESHOLD</code>.</p>
{_threshold_table(run, points)}

<h2>Latency</h2>
<div class="row"><div>{_img(latency_chart(run), "latency histogram")}</div><div>{_latency_table(m)}</div></div>
<p class="caption">Time per question in this run. Questions were processed in batches, so each one's
time is its share of the batch: a single interactive question takes longer.</p>

<h2>Failed questions</h2>
<p class="caption"><mark class=gold>green</mark>: gold answer or evidence;
<mark class=pred>orange</mark>: the bot's answer. The passage shown is the one holding the gold answer
when one was retrieved, else the one the answer came from.</p>
{_failure_listing(run)}
</body></html>
"""
