"""What the machine can do: CPU flags decide bf16 and how timings are labelled."""

import pytest

from bot import hardware


@pytest.fixture
def fake_cpu(monkeypatch):
    """Pretend /proc/cpuinfo lists `flags` for a CPU named "Test CPU"."""

    def use(flags: str) -> None:
        monkeypatch.setattr(hardware, "_cpuinfo", lambda: {"model name": "Test CPU", "flags": flags})
        hardware.fast_bf16.cache_clear()

    yield use
    hardware.fast_bf16.cache_clear()


def test_description_names_the_cpu_and_only_its_speed_flags(fake_cpu):
    fake_cpu("fpu sse2 avx2 avx512f avx512_bf16 ht")
    assert hardware.cpu_description() == "Test CPU [avx2 avx512f avx512_bf16]"
    fake_cpu("fpu sse2")
    assert hardware.cpu_description() == "Test CPU [no avx2]"


@pytest.mark.parametrize("flags, expected", [("avx2 avx512f", False), ("avx2 avx512_bf16", True),
                                             ("avx2 amx_bf16", True)])
def test_bf16_only_where_the_cpu_has_bf16_units(fake_cpu, flags, expected):
    fake_cpu(flags)
    assert hardware.fast_bf16("cpu") is expected


def test_training_device_says_where_it_trains(fake_cpu, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    fake_cpu("avx2 avx512_bf16")
    lines: list[str] = []
    assert hardware.training_device(None, lines.append) == ("cpu", True)
    assert lines == ["training on cpu (Test CPU [avx2 avx512_bf16]), bf16 autocast on"]
    # an explicit choice wins over the hardware's, and no log means silence
    assert hardware.training_device(False) == ("cpu", False)
