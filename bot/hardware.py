"""What the machine can do fast, decided once per process."""

from __future__ import annotations

import functools
from pathlib import Path

import torch


@functools.cache
def fast_bf16(device: str = "cpu") -> bool:
    """bf16 autocast only pays where the hardware has bf16 units.

    On CPUs without AMX or AVX512-BF16 it is emulated and about 20x slower than fp32.
    """
    if device.startswith("cuda"):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags
