"""Answer quality from PDFs against the same text as Markdown: SQuAD part-A articles written as
Markdown and printed to PDF by headless Chromium, the same questions asked of each corpus.

    .venv/bin/python bench/pdf_quality.py [--articles 2] [--questions 150] [--seed 0] [--save]

Each corpus is indexed and evaluated by `bot eval` in its own process. Target: the PDF corpus
scores within 2 F1 of the Markdown one. Part A is the tune split; part B is never used here.
"""

from __future__ import annotations

import html
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO, SHARED, emit, log, parser, target, temp_dir

PART_A = SHARED / "data" / "squad" / "squad-v1.1-dev-part-a.json"
FORMATS = ("md", "pdf")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")
# Chromium's page header and footer (date, title, file URL, page numbers) are not the article's text.
NO_HEADER_FOOTER = ("--no-pdf-header-footer", "--print-to-pdf-no-header")
MAX_F1_GAP = 2.0


def load_articles(path: Path, count: int) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    articles = data["data"][:count]
    if len(articles) < count:
        raise SystemExit(f"{path} has only {len(articles)} articles (asked for {count})")
    return articles


def article_title(article: dict) -> str:
    return article["title"].replace("_", " ")


def markdown_text(article: dict) -> str:
    paragraphs = [p["context"].strip() for p in article["paragraphs"]]
    return f"# {article_title(article)}\n\n" + "\n\n".join(paragraphs) + "\n"


def html_text(article: dict) -> str:
    """The Markdown document as a browser would render it: the title heading, then paragraphs."""
    title = html.escape(article_title(article))
    body = "\n".join(f"<p>{html.escape(p['context'].strip())}</p>" for p in article["paragraphs"])
    return (f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n"
            f"<body>\n<h1>{title}</h1>\n{body}\n</body></html>\n")


def find_chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("no Chromium found (install it, e.g. `apt-get install -y chromium`)")


def print_pdf(chromium: str, html_path: Path, pdf_path: Path, header_footer: bool) -> None:
    flags = [*CHROMIUM_FLAGS, *(() if header_footer else NO_HEADER_FOOTER)]
    cmd = [chromium, *flags, f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise SystemExit(f"Chromium did not print {html_path.name}: {done.stderr.strip()[-500:]}")


def write_corpora(articles: list[dict], root: Path, chromium: str, header_footer: bool) -> dict[str, Path]:
    """corpus-md/<title>.md and corpus-pdf/<title>.pdf for every article."""
    folders = {fmt: root / f"corpus-{fmt}" for fmt in FORMATS}
    for folder in folders.values():
        folder.mkdir(parents=True)
    html_dir = root / "html"
    html_dir.mkdir()
    for article in articles:
        name = article["title"]
        (folders["md"] / f"{name}.md").write_text(markdown_text(article), encoding="utf-8")
        html_path = html_dir / f"{name}.html"
        html_path.write_text(html_text(article), encoding="utf-8")
        print_pdf(chromium, html_path, folders["pdf"] / f"{name}.pdf", header_footer)
    return folders


def write_questions(articles: list[dict], path: Path, count: int, seed: int) -> int:
    """A seeded sample of the articles' questions as `bot eval` JSONL; returns how many there were."""
    items = []
    for article in articles:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                items.append({"id": qa["id"], "question": qa["question"], "answers": answers})
    chosen = random.Random(seed).sample(items, min(count, len(items)))
    path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in chosen), encoding="utf-8")
    return len(items)


def run_eval(questions: Path, corpus: Path, work: Path, reader: str | None) -> dict:
    """`bot eval` over one corpus in a fresh process; returns its metrics and per-question results."""
    out = work / f"eval-{corpus.name}"
    cmd = [sys.executable, "-m", "bot", "eval", str(questions), "--corpus", str(corpus),
           "--index", str(work / f"index-{corpus.name}"), "--out", str(out)]
    if reader:
        cmd += ["--reader", reader]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"bot eval failed on {corpus.name} (exit {done.returncode}): {done.stderr.strip()[-1500:]}")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    results = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return {"metrics": metrics, "results": results, "stdout": done.stdout}


def paragraph_fidelity(articles: list[dict], pdf_folder: Path) -> dict:
    """How many source paragraphs come back from the PDF as exactly one line of the document text,
    and whether each title is found as a heading."""
    from bot.ingest.corpus import load_document

    exact = total = titles = 0
    for article in articles:
        doc = load_document(pdf_folder / f"{article['title']}.pdf", f"{article['title']}.pdf")
        lines = set(doc.text.split("\n"))
        paragraphs = [p["context"].strip() for p in article["paragraphs"]]
        total += len(paragraphs)
        exact += sum(p in lines for p in paragraphs)
        titles += article_title(article) in [h for _, h in doc.headings]
    return {"paragraphs": total, "paragraphs_exact_in_pdf_text": exact, "titles_found_as_headings": titles}


def figures_of(run: dict) -> dict:
    m = run["metrics"]
    retrieval = m.get("retrieval") or {}
    never_refusing = [r["answer_f1"] for r in run["results"]]
    return {
        "n": m["n"],
        "f1": m["f1"],
        "f1_never_refusing": round(sum(never_refusing) / len(never_refusing), 2) if never_refusing else None,
        "exact_match": m["exact_match"],
        "refused": m["has_answer"]["refused"],
        "recall@1": retrieval.get("recall@1"),
        "recall@5": retrieval.get("recall@5"),
        "citation_accuracy": m.get("citation_accuracy"),
    }


def main() -> int:
    started = time.perf_counter()
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--squad", default=str(PART_A), help="SQuAD v1.1 file to draw articles from (default: part A)")
    p.add_argument("--articles", type=int, default=2, help="the first N articles of the file (default 2)")
    p.add_argument("--questions", type=int, default=150, help="questions sampled from them (default 150)")
    p.add_argument("--seed", type=int, default=0, help="seed of the question sample (default 0)")
    p.add_argument("--reader", help="reader for `bot eval` (default: the bot's own)")
    p.add_argument("--header-footer", action="store_true",
                   help="let Chromium print its page header and footer (date, title, URL, page number), "
                   "as many PDFs have")
    p.add_argument("--keep", help="build the corpora, indexes and eval outputs in this folder and keep them")
    args = p.parse_args()
    if args.quick:
        args.articles, args.questions = 1, 20
    squad = Path(args.squad)
    if "part-b" in squad.name:
        raise SystemExit("part B is the test split: tune and compare on part A only")

    chromium = find_chromium()
    work = Path(args.keep) if args.keep else temp_dir("pdf-quality")
    work.mkdir(parents=True, exist_ok=True)
    articles = load_articles(squad, args.articles)
    folders = write_corpora(articles, work, chromium, args.header_footer)
    questions = work / "questions.jsonl"
    available = write_questions(articles, questions, args.questions, args.seed)
    log(f"{len(articles)} articles, {args.questions} of {available} questions, corpora in {work}")

    figures = {}
    for fmt in FORMATS:
        log(f"evaluating the {fmt} corpus")
        figures[fmt] = figures_of(run_eval(questions, folders[fmt], work, args.reader))
    figures["pdf_text"] = paragraph_fidelity(articles, folders["pdf"])
    gap = round(figures["md"]["f1"] - figures["pdf"]["f1"], 2)
    version = subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout.strip()
    figures["f1_gap_md_minus_pdf"] = gap
    result = {
        "figures": figures,
        "targets": {"pdf_f1_within_2_of_markdown": target(gap, "<=", MAX_F1_GAP, " F1")},
        "runs": 1,
        "settings": {"reader": args.reader or "the bot's default", "seed": args.seed,
                     "header_footer": args.header_footer,
                     "chromium": version},
        "data": {"squad": str(squad), "articles": [a["title"] for a in articles],
                 "questions": args.questions, "questions_available": available, "work_dir": str(work)},
    }
    emit("pdf_quality", result, args.save, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
