"""Choosing the device once, the fast paths (bf16 autocast, channels_last: always on CUDA,
on the CPU with ``cpu_bf16: true``), and the deterministic mode.

Determinism. On the CPU every kernel fsad uses is deterministic: the same config and seed
give bit-identical weights, scores and AUCs. On CUDA several kernels are not by default:
cuDNN picks convolution algorithms by benchmarking and some of them accumulate with atomics,
cuBLAS reductions depend on its workspace, and the backward of bilinear up-sampling
(``F.interpolate(mode="bilinear")``, the U-Net decoder of every backbone) scatters
gradients with ``atomicAdd``. ``deterministic: true`` in the config (``pick(...,
deterministic=True)``) turns on ``torch.use_deterministic_algorithms``, cuDNN's deterministic
mode (no benchmarking), ``CUBLAS_WORKSPACE_CONFIG=:4096:8``, and routes bilinear resizing
through :func:`resize`, which does it as two small matrix products (deterministic forward and
backward). It costs speed; results are then bit-identical from run to run on the same GPU,
driver and library versions (not across GPU models).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os

import torch
import torch.nn.functional as F

from fsad import FsadError

log = logging.getLogger("fsad")

CUBLAS_WORKSPACE = ":4096:8"


_cpu_bf16 = False  # the config's cpu_bf16, for this process (set by pick)


def pick(name: str = "auto", deterministic: bool | None = None,
         cpu_bf16: bool = False) -> torch.device:
    """``auto`` = cuda:0 of the visible devices (CUDA_VISIBLE_DEVICES is honoured), else cpu.

    ``deterministic`` (the config's ``deterministic``) switches PyTorch's deterministic mode
    on or off for this process (see :func:`set_deterministic`); ``None`` leaves it as it is.
    ``cpu_bf16`` (the config's) gives CPU runs the fast path of CUDA runs (:func:`autocast`,
    :func:`prepare`).
    """
    global _cpu_bf16
    _cpu_bf16 = bool(cpu_bf16)
    if name == "cuda" and not torch.cuda.is_available():
        raise FsadError("device: cuda was requested but no CUDA device is visible; set "
                        "device: auto or cpu in the config")
    if deterministic is not None:
        set_deterministic(deterministic)  # before any CUDA work: cuBLAS reads its env once
    use_cuda = name == "cuda" or (name == "auto" and torch.cuda.is_available())
    device = torch.device("cuda:0" if use_cuda else "cpu")
    if use_cuda:
        log.info("device: %s (%s)", device, torch.cuda.get_device_name(device))
    else:
        log.info("device: cpu (%d threads%s)", torch.get_num_threads(),
                 ", bf16 autocast" if _cpu_bf16 else "")
    if deterministic is not None:
        log.info("deterministic algorithms: %s", "on" if deterministic else "off")
    return device


def set_deterministic(on: bool) -> None:
    """Deterministic kernels everywhere (an error where an op has none), cuDNN without
    benchmarking, and the cuBLAS workspace setting its deterministic mode requires."""
    if on:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    if on or torch.are_deterministic_algorithms_enabled():
        # It imports torch._inductor, about a second per process: only where it changes
        # something (off is PyTorch's default, for eager and compiled code alike).
        torch.use_deterministic_algorithms(on)
    torch.backends.cudnn.deterministic = on
    torch.backends.cudnn.benchmark = False


def resize(x: torch.Tensor, size) -> torch.Tensor:
    """``F.interpolate(x, size, mode="bilinear", align_corners=False)``; on CUDA in
    deterministic mode computed as ``A_h @ x @ A_w^T`` (no atomics in the backward)."""
    if x.is_cuda and torch.are_deterministic_algorithms_enabled():
        return bilinear_matmul(x, size)
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def bilinear_matmul(x: torch.Tensor, size) -> torch.Tensor:
    """Bilinear resizing (PyTorch's ``align_corners=False`` sampling) as two matrix products,
    in fp32 whatever the autocast state."""
    ah = _bilinear_matrix(int(size[0]), x.shape[-2], x.device)
    aw = _bilinear_matrix(int(size[1]), x.shape[-1], x.device)
    with torch.autocast(x.device.type, enabled=False):
        return ah @ x.float() @ aw.T


@functools.lru_cache(maxsize=64)
def _bilinear_matrix(out: int, inp: int, device: torch.device) -> torch.Tensor:
    """(out x inp) weights of 1-D linear interpolation, as aten's upsample_bilinear2d:
    source = (dst + 0.5) * inp / out - 0.5, clamped at 0; neighbours i and min(i + 1, inp - 1)."""
    dst = torch.arange(out, dtype=torch.float64)
    src = ((dst + 0.5) * (inp / out) - 0.5).clamp(min=0)
    i0 = src.floor().long().clamp(max=inp - 1)
    i1 = (i0 + 1).clamp(max=inp - 1)
    w1 = src - i0
    m = torch.zeros(out, inp, dtype=torch.float64)
    m.index_put_((torch.arange(out), i0), 1 - w1, accumulate=True)
    m.index_put_((torch.arange(out), i1), w1, accumulate=True)
    return m.float().to(device)


_forced: bool | None = None  # set by fast_path(): benchmarks compare both paths


@contextlib.contextmanager
def fast_path(on: bool):
    """Force the fast path on or off within the block, whatever the device (``fsad bench``
    times fp32 against bf16 + channels_last on one GPU)."""
    global _forced
    before, _forced = _forced, on
    try:
        yield
    finally:
        _forced = before


def fast(device: torch.device) -> bool:
    """Whether work on ``device`` takes the fast path (bf16 autocast, channels_last)."""
    if _forced is not None:
        return _forced
    return device.type == "cuda" or (device.type == "cpu" and _cpu_bf16)


def autocast(device: torch.device):
    """bf16 autocast on CUDA (and on the CPU with ``cpu_bf16``); else exact fp32."""
    if fast(device):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def prepare(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    module = module.to(device)
    if fast(device):
        module = module.to(memory_format=torch.channels_last)
    return module
