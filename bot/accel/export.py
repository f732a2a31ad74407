"""Build an ONNX copy of a transformers model (torch is needed here, and only here).

Readers export their start/end logits, embedders their last hidden state (pooling runs in
NumPy). int8 is ONNX Runtime's dynamic quantization: weights int8 per output channel,
activations quantized per batch, so no calibration data is needed. Only products with a weight
matrix are quantized: the attention products of two activations and the question-answering
head stay fp32 (measured on part A: quantizing those too cost 1.4 F1 instead of 0.7).
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

OPSET = 17
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

    dummy = tuple(torch.ones((2, 16), dtype=torch.long) if n != "token_type_ids" else torch.zeros((2, 16), dtype=torch.long)
                  for n in inputs)
    fp32_file = out_file if precision == "fp32" else out_file.with_suffix(".fp32.onnx")
    axes = {name: {0: "windows", 1: "tokens"} for name in inputs + outputs}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer notes about Python-side shape checks
        torch.onnx.export(Graph(), dummy, str(fp32_file), input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    if precision == "int8":
        import logging

        from onnxruntime.quantization import QuantType, quantize_dynamic

        logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # its pre-processing hint
        quantize_dynamic(str(fp32_file), str(out_file), per_channel=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul"], nodes_to_exclude=kept_in_fp32(fp32_file))
        fp32_file.unlink()
    return inputs


def kept_in_fp32(model_file: Path) -> list[str]:
    """MatMul nodes left in fp32: those without a constant weight operand, and the QA head."""
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    return [node.name for node in graph.node if node.op_type == "MatMul"
            and (node.input[1] not in weights or "qa_outputs" in node.name)]
