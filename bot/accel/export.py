"""Build an ONNX copy of a transformers model (torch is needed here, and only here).

Readers export their start/end logits, embedders their last hidden state (pooling runs in
NumPy). int8 is weight-only int8 (ONNX Runtime's MatMulNBits: one scale per block of weights, int8 arithmetic
on activations quantized per block of each row, so VNNI is used where present). The attention
products of two activations and the question-answering head stay fp32. No calibration data is
needed, and a text's result does not depend on the other texts in its batch. Measured on part A
(tune data): reader F1 81.04 against 81.10 in fp32, and the same seed_dev answers (blocks of 64
or 128 changed one). ONNX Runtime's plain dynamic quantization, with activations quantized per
tensor, lost 1.4 F1 on the reader (0.7 with the attention and head in fp32), and made an
embedding depend on its batch-mates (cosine 0.989 between a text embedded alone and in a batch).
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

OPSET = 17
# Weights per int8 scale: the reader needs blocks of 32 to keep its answers (64 and 128 changed
# a seed_dev answer); the embedder keeps its recall with 128, which runs a third faster.
BLOCK = {"reader": 32, "embedder": 128}
OUTPUTS = {"reader": ["start_logits", "end_logits"], "embedder": ["last_hidden_state"]}


def build_onnx(source_dir: str, kind: str, precision: str, out_file: Path) -> list[str]:
    """Write the model to `out_file`; returns the graph's input names."""
    import torch
    from transformers import AutoModel, AutoModelForQuestionAnswering

    from bot.model_paths import quiet_model_loading

    quiet_model_loading()
    loader = AutoModelForQuestionAnswering if kind == "reader" else AutoModel
    model = loader.from_pretrained(source_dir, dtype=torch.float32).eval()
    # token_type_ids only where the model takes them (BERT does, DistilBERT does not).
    accepted = inspect.signature(model.forward).parameters
    inputs = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]
    outputs = OUTPUTS[kind]

    class Graph(torch.nn.Module):
        """Positional inputs and plain tensor outputs, as the exporter wants them."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args):
            out = self.model(**dict(zip(inputs, args)))
            return tuple(out[name] for name in outputs)

    # Token type 0 everywhere, as one sequence has; the axes are dynamic, so the sizes do not matter.
    dummy = tuple((torch.zeros if n == "token_type_ids" else torch.ones)((2, 16), dtype=torch.long) for n in inputs)
    fp32_file = out_file if precision == "fp32" else out_file.with_suffix(".fp32.onnx")
    axes = {name: {0: "windows", 1: "tokens"} for name in inputs + outputs}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer notes about Python-side shape checks
        torch.onnx.export(Graph(), dummy, str(fp32_file), input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    if precision == "int8":
        _weight_only_int8(fp32_file, out_file, BLOCK[kind])
        fp32_file.unlink()
    return inputs


def kept_in_fp32(model_file: Path) -> list[str]:
    """MatMul nodes kept in fp32: those without a constant weight operand (attention products),
    and a QA model's answer head."""
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    return [node.name for node in graph.node if node.op_type == "MatMul"
            and (node.input[1] not in weights or "qa_outputs" in node.name)]


def _weight_only_int8(fp32_file: Path, out_file: Path, block: int) -> None:
    import logging

    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import (DefaultWeightOnlyQuantConfig,
                                                                 MatMulNBitsQuantizer)

    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.ERROR)
    # accuracy_level 4: int8 arithmetic, with activations quantized per block (VNNI where present).
    config = DefaultWeightOnlyQuantConfig(block_size=block, is_symmetric=True, accuracy_level=4, bits=8)
    quantizer = MatMulNBitsQuantizer(onnx.load(str(fp32_file)), bits=8, block_size=block, is_symmetric=True,
                                     accuracy_level=4, nodes_to_exclude=kept_in_fp32(fp32_file), algo_config=config)
    quantizer.process()
    quantizer.model.save_model_to_file(str(out_file), use_external_data_format=False)
