"""Choosing the device once, and the CUDA fast paths (bf16 autocast, channels_last)."""

from __future__ import annotations

import contextlib
import logging

import torch

from fsad import FsadError

log = logging.getLogger("fsad")


def pick(name: str = "auto") -> torch.device:
    """``auto`` = cuda:0 of the visible devices (CUDA_VISIBLE_DEVICES is honoured), else cpu."""
    if name == "cuda" and not torch.cuda.is_available():
        raise FsadError("device: cuda was requested but no CUDA device is visible; set "
                        "device: auto or cpu in the config")
    use_cuda = name == "cuda" or (name == "auto" and torch.cuda.is_available())
    device = torch.device("cuda:0" if use_cuda else "cpu")
    if use_cuda:
        log.info("device: %s (%s)", device, torch.cuda.get_device_name(device))
    else:
        log.info("device: cpu (%d threads)", torch.get_num_threads())
    return device


def autocast(device: torch.device):
    """bf16 autocast on CUDA; CPU runs stay in fp32 (exact and reproducible)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def prepare(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    module = module.to(device)
    if device.type == "cuda":
        module = module.to(memory_format=torch.channels_last)
    return module
