"""bfloat16 only where the hardware computes it: emulated, it made a picture 13x slower than float32."""

import pytest
import torch

from playground import precision


def product_dtype() -> torch.dtype:
    with precision.autocast("cpu"):
        return torch.nn.functional.linear(torch.ones(2, 4), torch.ones(3, 4)).dtype


@pytest.mark.parametrize("hardware", [True, False])
def test_autocast_computes_in_bfloat16_exactly_when_the_cpu_has_bfloat16_hardware(monkeypatch, hardware):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: hardware)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert precision.bfloat16_is_fast("cpu") is hardware
    assert product_dtype() == (torch.bfloat16 if hardware else torch.float32)


def test_amx_alone_counts_as_bfloat16_hardware(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert product_dtype() == torch.bfloat16


def test_a_gpu_always_computes_in_bfloat16():
    assert precision.bfloat16_is_fast(torch.device("cuda"))
