"""Reader speed in fp32 against the same model with dynamic int8 quantisation of its Linear
layers (torch.ao.quantization.quantize_dynamic), on the bot's retrieved passages.

    .venv/bin/python bench/quantized_reader.py [--runs 3] [--reader-model DIR] [--save]

Speed only: the agreement figure is a sanity check, not a quality measurement.
"""

from __future__ import annotations

import copy
import io
import time
import warnings

from _common import emit, log, percentiles, reader_parser, reader_workload


def state_bytes(model) -> int:
    """Size of the saved weights: what a shipped model file would weigh."""
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell()


def main() -> int:
    started = time.perf_counter()
    args = reader_parser(__doc__.splitlines()[0]).parse_args()
    requests, settings, model_dir, model_info = reader_workload(args)

    import torch

    from bot.read.transformer import TransformerReader

    fp32 = TransformerReader(model_dir, max_answer_tokens=settings.max_answer_tokens)
    fp32.warm_up()
    int8 = TransformerReader(model_dir, max_answer_tokens=settings.max_answer_tokens)
    int8.warm_up()
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao; it still works and needs no extra package.
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        int8.model = quantize_dynamic(copy.deepcopy(fp32.model), {torch.nn.Linear}, dtype=torch.qint8)
    log(f"quantised engine: {torch.backends.quantized.engine}")

    readers = {"fp32": fp32, "int8_dynamic": int8}
    for q, items in requests[:2]:  # warm-up, untimed
        for r in readers.values():
            r.read(q, items)
    samples = {name: [] for name in readers}
    agree = []
    names = list(readers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for run in range(args.runs):
            for n, (q, items) in enumerate(requests):
                best = {}
                for name in (names if n % 2 == 0 else names[::-1]):  # alternate who goes first
                    t0 = time.perf_counter()
                    result = readers[name].read(q, items)
                    samples[name].append((time.perf_counter() - t0) * 1000)
                    best[name] = result.spans[0].text if result.spans else None
                agree.append(best["fp32"] == best["int8_dynamic"])
            log(f"run {run + 1}/{args.runs} done")

    stats = {name: percentiles(v) for name, v in samples.items()}
    result = {
        "figures": {
            "ms_per_question": stats,
            "speedup_p50": round(stats["fp32"]["p50"] / stats["int8_dynamic"]["p50"], 2),
            "speedup_mean": round(stats["fp32"]["mean"] / stats["int8_dynamic"]["mean"], 2),
            "weights_bytes": {"fp32": state_bytes(fp32.model), "int8_dynamic": state_bytes(int8.model)},
            "same_top_answer_fraction": round(sum(agree) / len(agree), 3) if agree else None,
        },
        "targets": {},
        "runs": args.runs,
        "questions_per_run": len(requests),
        "passages_per_question": percentiles([len(i) for _, i in requests]),
        "settings": {"quantisation": "torch.ao.quantization.quantize_dynamic on nn.Linear, qint8, engine "
                     + torch.backends.quantized.engine, "max_length": fp32.max_length,
                     "bf16_autocast": fp32._bf16, "read_k": args.read_k or settings.read_k},
        "reader_model": model_info,
        "data": {"questions": f"{args.questions} ({len(requests)} questions)",
                 "passages": f"the bot's top read_k retrieved chunks from {args.corpus}"},
        "notes": ["one TransformerReader.read() per question over all its passages, both models in one process, "
                  "interleaved",
                  "same_top_answer_fraction is a sanity check; answer quality needs the evaluation on SQuAD"],
    }
    emit("quantized_reader", result, args.save, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
