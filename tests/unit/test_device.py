"""The deterministic switch (config `deterministic`) and its bilinear resizing; the fast
path (bf16 autocast, channels_last) switched on and off."""

import os

import pytest
import torch
import torch.nn.functional as F

from fsad import device
from fsad.models.unet import UNet


@pytest.fixture
def restore_torch_flags():
    before = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic,
              torch.backends.cudnn.benchmark, os.environ.get("CUBLAS_WORKSPACE_CONFIG"))
    yield
    torch.use_deterministic_algorithms(before[0])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[1:3]
    if before[3] is None:
        os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    else:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = before[3]


def test_pick_switches_deterministic_mode_on_and_off(restore_torch_flags, monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    assert device.pick("cpu", deterministic=True).type == "cpu"
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    device.pick("cpu", deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled()
    assert not torch.backends.cudnn.deterministic
    device.pick("cpu", deterministic=True)
    device.pick("cpu")  # None: left as it is
    assert torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize(("shape", "size"), [((4, 5), (8, 10)), ((3, 3), (7, 5)),
                                             ((8, 8), (16, 16)), ((5, 7), (2, 3)),
                                             ((1, 1), (4, 4)), ((2, 9), (3, 17))])
def test_bilinear_matmul_equals_interpolate_forward_and_backward(shape, size):
    x = torch.randn(2, 3, *shape, generator=torch.Generator().manual_seed(0),
                    requires_grad=True)
    ref = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    grad_out = torch.randn_like(ref)
    (ref_grad,) = torch.autograd.grad(ref, x, grad_out)
    got = device.bilinear_matmul(x, size)
    (got_grad,) = torch.autograd.grad(got, x, grad_out)
    assert got.shape == ref.shape
    torch.testing.assert_close(got, ref, rtol=0, atol=1e-5)
    torch.testing.assert_close(got_grad, ref_grad, rtol=0, atol=1e-5)


def test_cpu_resizing_is_unchanged_by_deterministic_mode(restore_torch_flags):
    """On the CPU the mode changes no number: resize stays F.interpolate, bit for bit."""
    torch.manual_seed(0)
    net = UNet(3, 1, [4, 8])
    x = torch.randn(2, 3, 17, 23)
    device.set_deterministic(False)
    off = net(x)
    device.set_deterministic(True)
    on = net(x)
    assert torch.equal(on, off)
    assert torch.equal(device.resize(x, (9, 5)),
                       F.interpolate(x, size=(9, 5), mode="bilinear", align_corners=False))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_training_step_is_bit_identical_in_deterministic_mode(restore_torch_flags):
    """Without the mode the U-Net's bilinear backward has no deterministic CUDA kernel
    (PyTorch raises under use_deterministic_algorithms); with it two runs agree bit for bit."""
    dev = device.pick("cuda", deterministic=True)

    def grads():
        torch.manual_seed(0)
        net = device.prepare(UNet(3, 1, [8, 16, 32]), dev)
        x = torch.randn(4, 3, 37, 45, device=dev)
        with device.autocast(dev):
            loss = net(x).float().square().mean()
        loss.backward()
        return [p.grad.clone() for p in net.parameters()]

    first, second = grads(), grads()
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))


def test_cpu_bf16_gives_cpu_runs_the_cuda_fast_path():
    cpu = device.pick("cpu", cpu_bf16=True)
    try:
        layer = device.prepare(torch.nn.Conv2d(3, 8, 3), cpu)
        assert layer.weight.is_contiguous(memory_format=torch.channels_last)
        with device.autocast(cpu):
            assert layer(torch.rand(1, 3, 8, 8)).dtype == torch.bfloat16
    finally:
        cpu = device.pick("cpu")  # the default: exact fp32 on the CPU
    with device.autocast(cpu):
        assert torch.nn.Conv2d(3, 8, 3)(torch.rand(1, 3, 8, 8)).dtype == torch.float32
    assert device.prepare(torch.nn.Conv2d(3, 8, 3), cpu).weight.is_contiguous()


def test_fast_path_can_be_forced_either_way_and_is_restored():
    cpu = torch.device("cpu")
    assert not device.fast(cpu)
    with device.fast_path(True):
        assert device.fast(cpu)
        layer = device.prepare(torch.nn.Conv2d(3, 4, 3), cpu)
        assert layer.weight.is_contiguous(memory_format=torch.channels_last)
        with device.autocast(cpu):
            assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
        with device.fast_path(False):
            assert not device.fast(cpu)
        assert device.fast(cpu)
    assert not device.fast(cpu)
