"""What the machine can do fast, decided once per process."""

from __future__ import annotations

import functools
import platform
from pathlib import Path
from typing import Callable

# CPU features that decide which kernels run fast: int8 dot products (VNNI), bf16 units, AMX.
SPEED_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


@functools.cache
def _cpuinfo() -> dict[str, str]:
    """The first processor's fields from /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if not line.strip():
                break  # the first processor's block ends here
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def cpu_flags() -> frozenset[str]:
    info = _cpuinfo()
    return frozenset((info.get("flags") or info.get("Features") or "").split())


def cpu_name() -> str:
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def cpu_description() -> str:
    """CPU name and the speed-relevant flags it has, for every timing the project reports."""
    flags = [f for f in SPEED_FLAGS if f in cpu_flags()]
    return f"{cpu_name()} [{' '.join(flags) or 'no avx2'}]"


def training_device(bf16: bool | None = None, log: Callable[[str], None] | None = None) -> tuple[str, bool]:
    """Where training runs (the GPU when there is one) and whether it uses bf16 autocast there
    (`bf16` None: where the hardware has bf16 units). `log` is told both, with the CPU's
    speed-relevant flags when it is the CPU, since per-window times depend on them."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    use_bf16 = fast_bf16(device) if bf16 is None else bf16
    if log is not None:
        where = torch.cuda.get_device_name(0) if device == "cuda" else cpu_description()
        log(f"training on {device} ({where}), bf16 autocast {'on' if use_bf16 else 'off'}")
    return device, use_bf16


@functools.cache
def fast_bf16(device: str = "cpu") -> bool:
    """bf16 autocast only pays where the hardware has bf16 units.

    On CPUs without AMX or AVX512-BF16 it is emulated and about 20x slower than fp32.
    """
    if device.startswith("cuda"):
        import torch

        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return bool({"amx_bf16", "avx512_bf16"} & cpu_flags())
