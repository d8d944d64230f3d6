"""Smaller networks after training: magnitude pruning and int8 quantisation.

Two ways to shrink a trained network without training it again (*post-training*), which
unit 07 measures on the learned codec's decoder :math:`g_s`:

- **Pruning** (:func:`prune_l1`) sets the weights of smallest magnitude to zero. A dense
  convolution multiplies by the zeros all the same, so a pruned model is no faster and its
  file no smaller, until the file is compressed (:func:`weight_file_bytes` with
  ``deflate=True``): runs of zeros are what a compressor removes.
- **int8 quantisation** stores each weight as an 8-bit integer and one scale per layer,
  :math:`w \\approx s\\,q`, a quarter of float32. :func:`quantize_int8` is the rule, written
  out; :func:`int8_weights` rounds a model's weights with it (weights only, arithmetic still
  in float32), and :func:`quantize_static_int8` goes further with PyTorch's
  ``torch.ao.quantization``: int8 weights *and* int8 activations, with int8 kernels.

:func:`smaller_decoders` makes each of these from a learned codec's decoder and
:func:`decoder_table` measures them on real files: the same bytes (the encoder is unchanged),
decoded by each decoder, with PSNR, the decoder's size and its decode time.

Examples
--------
>>> import torch
>>> q, scale = quantize_int8(torch.tensor([0.5, -1.0, 0.25]))
>>> q.tolist(), round(scale, 5)
([64, -127, 32], 0.00784)
"""

from __future__ import annotations

import copy
import warnings
import zlib
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import torch
from safetensors.torch import save
from torch import nn
from torch.nn.utils import prune

from ..compression.measure import LearnedCodec, code_images
from ..data.io import center_crop
from ..images import image_to_tensor

__all__ = ["calibration_latents", "conv_layers", "decoder_table", "int8_state_dict",
           "int8_weights", "prune_l1", "quantize_int8", "quantize_static_int8",
           "smaller_decoders", "sparsity", "static_int8_available", "weight_file_bytes"]

_CONV = (nn.Conv2d, nn.ConvTranspose2d)


def conv_layers(model: nn.Module) -> list[nn.Module]:
    """The convolutions and transposed convolutions of ``model``, in order: the layers that
    pruning and quantisation act on (they hold nearly all the weights of these networks)."""
    return [m for m in model.modules() if isinstance(m, _CONV)]


def quantize_int8(weight: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Symmetric per-tensor int8 quantisation of a weight tensor.

    .. math:: s = \\frac{\\max_i |w_i|}{127.5},\\qquad
              q_i = \\mathrm{clip}\\big(\\mathrm{round}(w_i / s), -128, 127\\big),\\qquad
              w_i \\approx s\\, q_i

    the rule of ``torch.ao.quantization.default_weight_observer`` (a symmetric min-max
    observer over the whole tensor), so :func:`quantize_static_int8` stores the same
    integers. The rounding error of each weight is at most :math:`s / 2`. As PyTorch's
    kernels do, it computes in float32 and rounds :math:`w \\cdot (1/s)`: the largest weight
    then lands just inside :math:`\\pm 127.5` and rounds to :math:`\\pm 127` (the example
    above), where exact arithmetic would give a tie.

    Parameters
    ----------
    weight : torch.Tensor
        Float weights (any shape).

    Returns
    -------
    q : torch.Tensor of int8, the shape of ``weight``
    scale : float
        :math:`s` (``torch.finfo(float32).eps`` for an all-zero tensor).
    """
    if not weight.is_floating_point():
        raise TypeError(f"quantize_int8 takes float weights, got {weight.dtype}.")
    w = weight.detach().float()
    amax = w.abs().max() if w.numel() else torch.tensor(0.0)
    # float32 arithmetic, and a product with 1 / s, as PyTorch's kernels do: the same ties
    scale = torch.clamp(amax / 127.5, min=torch.finfo(torch.float32).eps)
    q = torch.clamp(torch.round(w * (1 / scale)), -128, 127).to(torch.int8)
    return q, float(scale)


def int8_weights(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose convolution weights are rounded to int8 and back,
    :math:`w \\leftarrow s\\, q` (:func:`quantize_int8`): what the model computes when its
    weights are stored in 8 bits. Biases and other layers keep float32."""
    model = copy.deepcopy(model)
    with torch.no_grad():
        for layer in conv_layers(model):
            q, scale = quantize_int8(layer.weight)
            layer.weight.copy_(q.float() * scale)
    return model


def int8_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The tensors a file of ``model`` with int8 convolution weights holds: each convolution's
    ``weight`` as int8 with its ``weight_scale`` (float32), every other tensor as it is."""
    convs = {id(m) for m in conv_layers(model)}
    tensors = {}
    for prefix, module in model.named_modules():
        for name, tensor in module.named_parameters(recurse=False):
            key = f"{prefix}.{name}" if prefix else name
            if name == "weight" and id(module) in convs:
                q, scale = quantize_int8(tensor)
                tensors[key], tensors[key + "_scale"] = q, torch.tensor([scale])
            else:
                tensors[key] = tensor.detach()
    return tensors


def weight_file_bytes(tensors: dict[str, torch.Tensor] | nn.Module, deflate: bool = False) -> int:
    """Size in bytes of a safetensors file of ``tensors`` (or of a model's parameters), and
    with ``deflate=True`` of that file compressed with zlib (level 9), as a zip would.

    The file is built in memory, not written: this measures, it does not save."""
    if isinstance(tensors, nn.Module):
        tensors = {k: v.detach() for k, v in tensors.named_parameters()}
    data = save({k: v.contiguous() for k, v in tensors.items()})
    return len(zlib.compress(data, 9)) if deflate else len(data)


def prune_l1(model: nn.Module, amount: float) -> nn.Module:
    """A copy of ``model`` with the fraction ``amount`` of each convolution's weights, those
    of smallest magnitude :math:`|w|`, set to zero (``torch.nn.utils.prune.l1_unstructured``,
    made permanent with ``prune.remove``).

    Each layer loses the same fraction: with one threshold for the whole network, a layer
    whose weights are mostly smaller than the others' (as a decoder's last, three-channel
    one can be) could lose nearly all of them.

    Parameters
    ----------
    model : nn.Module
    amount : float in [0, 1)
        Fraction of every convolution's weights to zero.

    References
    ----------
    .. [1] S. Han, J. Pool, J. Tran, W. J. Dally, "Learning both Weights and Connections for
           Efficient Neural Networks", NeurIPS 2015. arXiv:1506.02626
    """
    if not 0 <= amount < 1:
        raise ValueError(f"amount is the fraction of weights to prune, in [0, 1); got {amount}.")
    model = copy.deepcopy(model)
    for layer in conv_layers(model):
        prune.l1_unstructured(layer, "weight", amount=amount)
        prune.remove(layer, "weight")  # the mask becomes the weight: a plain layer again
    return model


def sparsity(model: nn.Module) -> float:
    """Fraction of the convolution weights of ``model`` that are exactly zero."""
    weights = [layer.weight for layer in conv_layers(model)]
    total = sum(w.numel() for w in weights)
    return sum(int((w == 0).sum()) for w in weights) / total if total else 0.0


def static_int8_available() -> bool:
    """Whether this PyTorch can run :func:`quantize_static_int8`: it has
    ``torch.ao.quantization`` and a quantized engine (fbgemm/x86 or qnnpack)."""
    try:
        import torch.ao.quantization  # noqa: F401  (optional: a future PyTorch removes it)
    except ImportError:
        return False
    return torch.backends.quantized.engine != "none"


class _Int8Layer(nn.Module):
    """One layer in int8: quantise its input, the (converted) int8 layer, dequantise."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        from torch.ao.quantization import DeQuantStub, QuantStub  # optional: quantize_static_int8

        self.quant, self.layer, self.dequant = QuantStub(), layer, DeQuantStub()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dequant(self.layer(self.quant(x)))


def quantize_static_int8(network: nn.Sequential,
                         calibration: Iterable[torch.Tensor]) -> nn.Sequential:
    """Post-training static int8 quantisation of the convolutions of ``network`` with
    ``torch.ao.quantization`` (eager mode): int8 weights (:func:`quantize_int8`'s integers)
    and int8 activations, whose scales an observer sets from the ``calibration`` inputs.

    Each convolution is wrapped between a quantise and a dequantise step; every other layer
    (the codec's GDN, whose square root has no int8 kernel) stays float32. The weights are
    quantised per tensor: PyTorch has no per-channel int8 kernel for transposed convolutions.
    The activations use the engine's default observer; on x86 (fbgemm) it keeps them to 7 bits
    (``reduce_range``, which avoids an overflow in those kernels' 16-bit sums), on ARM
    (qnnpack) to 8.

    Parameters
    ----------
    network : nn.Sequential
        A trained float network (for example a codec's ``g_s``); it is not changed.
    calibration : iterable of torch.Tensor
        Typical inputs (a codec's rounded latents), run once each to set the activation
        ranges.

    Returns
    -------
    nn.Sequential
        The int8 network, on the CPU, in eval mode.

    References
    ----------
    .. [1] PyTorch, "Quantization" (eager mode post-training static quantization),
           https://docs.pytorch.org/docs/stable/quantization.html
    .. [2] B. Jacob et al., "Quantization and Training of Neural Networks for Efficient
           Integer-Arithmetic-Only Inference", CVPR 2018. arXiv:1712.05877
    """
    if not static_int8_available():
        raise RuntimeError(
            "this PyTorch has no torch.ao.quantization or no quantized engine "
            f"(engines: {torch.backends.quantized.supported_engines}); use int8_weights, "
            "which rounds the weights to int8 without int8 kernels, or the course's locked "
            "environment (make lab).")
    # torch.ao.quantization warns that it is deprecated in favour of torchao, which is not in
    # the lock and quantises convolutions only through torch.export. The eager API the course
    # teaches still works in the locked torch; the warnings are about the API, not about this
    # computation, so they are silenced for its calls alone (an optional import, here).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization is deprecated",
                                category=DeprecationWarning)
        # its observers' and quantized tensors' own API notices, raised inside torch.ao
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.ao\.")
        from torch.ao import quantization as tq  # optional: a future PyTorch removes it

        engine = torch.backends.quantized.engine
        qconfig = tq.QConfig(activation=tq.get_default_qconfig(engine).activation,
                             weight=tq.default_weight_observer)
        model = nn.Sequential(*(_Int8Layer(copy.deepcopy(m)) if isinstance(m, _CONV)
                                else copy.deepcopy(m) for m in network)).cpu().eval()
        for module in model:
            if isinstance(module, _Int8Layer):
                module.qconfig = qconfig
        tq.prepare(model, inplace=True)
        with torch.no_grad():
            seen = 0
            for x in calibration:
                model(x.cpu())
                seen += 1
        if not seen:
            raise ValueError("calibration is empty: give at least one typical input.")
        tq.convert(model, inplace=True)
    return model


def _quantized_weights(model: nn.Module) -> list[torch.Tensor]:
    """The int8 integers of every converted layer of :func:`quantize_static_int8`'s model
    (for tests: they equal :func:`quantize_int8`'s)."""
    return [m.weight().int_repr() for m in model.modules()
            if callable(getattr(m, "weight", None)) and hasattr(m, "scale")]


@torch.no_grad()
def calibration_latents(codec: nn.Module, images: Mapping[str, np.ndarray],
                        side: int = 256) -> list[torch.Tensor]:
    """The rounded latents :math:`\\hat y = \\mathrm{round}(g_a(x))` of centred crops of
    ``side`` pixels of ``images`` (RGB), the inputs :func:`quantize_static_int8` sets a
    decoder's activation ranges on. Give it training images, never the ones scored."""
    return [torch.round(codec.g_a(image_to_tensor(center_crop(image, side), "rgb")))
            for image in images.values()]


def smaller_decoders(codec: nn.Module, calibration: Iterable[torch.Tensor],
                     prune_amounts: Sequence[float] = (0.1, 0.3, 0.5)) -> dict[str, nn.Module]:
    """The decoder :math:`g_s` of a learned codec and its smaller versions, by label:
    ``"float32"`` (itself), ``"int8 weights"`` (:func:`int8_weights`), ``"int8 weights +
    activations"`` (:func:`quantize_static_int8`, calibrated on ``calibration``, latents of
    training images; left out where this PyTorch has no quantized engine) and
    ``"pruned P%"`` for each of ``prune_amounts`` (:func:`prune_l1`)."""
    g_s = codec.g_s
    decoders = {"float32": g_s, "int8 weights": int8_weights(g_s)}
    if static_int8_available():
        decoders["int8 weights + activations"] = quantize_static_int8(g_s, calibration)
    for amount in prune_amounts:
        decoders[f"pruned {amount:.0%}"] = prune_l1(g_s, amount)
    return decoders


def decoder_table(codec: nn.Module, decoders: Mapping[str, nn.Module],
                  images: Mapping[str, np.ndarray]) -> list[dict]:
    """Each decoder of ``decoders`` (:func:`smaller_decoders`) on real files: every image
    compressed by ``codec`` and decoded with that decoder in place of its own.

    Rows: ``decoder``; ``file (kB)`` and ``deflated (kB)``, the decoder's weights as a
    safetensors file, plain and zip-compressed (:func:`weight_file_bytes`; for both int8
    decoders the file of :func:`int8_state_dict`, the integers they share, without the int8
    kernels' few activation scales); the files' mean ``bpp`` (the same for every
    decoder), ``PSNR (dB)``, ``SSIM``, ``change (dB)`` against the first decoder, and the
    mean ``decode (ms)`` per image (range decoding and the decoder).
    """
    rows = []
    for label, g_s in decoders.items():
        variant = copy.deepcopy(codec)
        variant.g_s = g_s  # the same encoder and entropy model: the same files
        result = code_images(images, LearnedCodec(variant))
        weights = int8_state_dict(codec.g_s) if label.startswith("int8") else g_s
        rows.append({"decoder": label, "file (kB)": weight_file_bytes(weights) / 1e3,
                     "deflated (kB)": weight_file_bytes(weights, deflate=True) / 1e3,
                     "bpp": result.mean_bpp, "PSNR (dB)": result.mean_psnr,
                     "SSIM": result.mean_ssim,
                     "change (dB)": result.mean_psnr - (rows[0]["PSNR (dB)"] if rows
                                                        else result.mean_psnr),
                     "decode (ms)": 1000 * result.mean("decode_seconds")})
    return rows
