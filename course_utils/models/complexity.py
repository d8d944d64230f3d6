"""How big and how costly a model is: parameters and multiply-accumulate operations."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["count_macs", "count_parameters"]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (weights and biases) of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    r"""Multiply-accumulate operations of one forward pass on an input of ``input_shape``.

    Counts the convolutions, which dominate these networks:
    :math:`H_{out} W_{out} C_{out} \cdot k_h k_w C_{in} / \text{groups}` for a convolution and
    :math:`H_{in} W_{in} C_{in} \cdot k_h k_w C_{out} / \text{groups}` for a transposed one
    (each input pixel is spread over a ``k x k`` window of every output channel).
    """
    total = 0

    def conv_hook(module, inputs, output):
        nonlocal total
        k = module.kernel_size[0] * module.kernel_size[1]
        if isinstance(module, nn.ConvTranspose2d):
            total += inputs[0].numel() * k * module.out_channels // module.groups
        else:
            total += output.numel() * k * module.in_channels // module.groups

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules()
             if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        with torch.no_grad():
            model(torch.zeros(input_shape))
    finally:
        for hook in hooks:
            hook.remove()
    return total
