"""Pruning and int8 quantisation after training (course_utils.models.compact)."""

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.models import compact, get_model


@pytest.fixture(scope="module")
def decoder() -> nn.Sequential:
    torch.manual_seed(0)
    return get_model("factorized-codec", N=16, M=24).eval().g_s


@pytest.fixture(scope="module")
def latents() -> list[torch.Tensor]:
    torch.manual_seed(1)
    return [torch.round(3 * torch.randn(1, 24, 4, 6)) for _ in range(3)]


def test_int8_rounding_keeps_every_weight_within_half_a_step():
    for seed in range(20):
        w = torch.randn(64, 32, 5, 5, generator=torch.Generator().manual_seed(seed))
        q, scale = compact.quantize_int8(w)
        assert q.dtype == torch.int8 and q.shape == w.shape
        assert scale == pytest.approx(float(w.abs().max()) / 127.5)
        # half a step, up to float32 rounding of w / s and of s q
        assert float((q.float() * scale - w).abs().max()) <= scale / 2 * (1 + 1e-4)
    assert int(q.int().abs().max()) >= 127  # the largest weight uses the whole range


def test_int8_rounding_of_zeros_and_of_integers():
    q, scale = compact.quantize_int8(torch.zeros(3))
    assert q.tolist() == [0, 0, 0] and scale > 0
    with pytest.raises(TypeError, match="float weights"):
        compact.quantize_int8(torch.ones(3, dtype=torch.int64))


def test_int8_weights_hold_at_most_256_values_per_layer_and_leave_the_model(decoder):
    before = [layer.weight.clone() for layer in compact.conv_layers(decoder)]
    rounded = compact.int8_weights(decoder)
    for layer, original in zip(compact.conv_layers(rounded), before, strict=True):
        assert len(torch.unique(layer.weight)) <= 256
        assert not torch.equal(layer.weight, original)
    for layer, original in zip(compact.conv_layers(decoder), before, strict=True):
        assert torch.equal(layer.weight, original), "int8_weights changed its input"


def test_an_int8_file_is_about_a_quarter_of_the_float_one(decoder):
    tensors = compact.int8_state_dict(decoder)
    convs = [name for name, t in tensors.items() if t.dtype == torch.int8]
    assert len(convs) == len(compact.conv_layers(decoder))
    assert all(tensors[name + "_scale"].dtype == torch.float32 for name in convs)
    ratio = compact.weight_file_bytes(tensors) / compact.weight_file_bytes(decoder)
    assert 0.25 < ratio < 0.35  # int8 weights; float biases, GDN and the file's header


@pytest.mark.parametrize("amount", [0.0, 0.3, 0.75])
def test_pruning_zeros_the_smallest_weights_of_every_layer(decoder, amount):
    pruned = compact.prune_l1(decoder, amount)
    assert compact.sparsity(pruned) == pytest.approx(amount, abs=0.01)
    for layer, original in zip(compact.conv_layers(pruned), compact.conv_layers(decoder),
                               strict=True):
        zero = layer.weight == 0
        assert float(zero.float().mean()) == pytest.approx(amount, abs=0.01)
        if 0 < amount:
            w = original.weight.detach().abs()
            assert float(w[zero].max()) <= float(w[~zero].min())
        assert torch.equal(layer.weight[~zero], original.weight[~zero])
        assert not hasattr(layer, "weight_orig"), "the pruning mask was not made permanent"
    assert compact.sparsity(decoder) == 0, "prune_l1 changed its input"


def test_pruning_makes_the_file_smaller_only_once_it_is_compressed(decoder):
    pruned = compact.prune_l1(decoder, 0.75)
    assert compact.weight_file_bytes(pruned) == compact.weight_file_bytes(decoder)
    assert compact.weight_file_bytes(pruned, deflate=True) < 0.6 * compact.weight_file_bytes(
        decoder, deflate=True)


def test_a_bad_pruning_amount_gets_a_clear_error(decoder):
    for amount in (1.0, -0.1):
        with pytest.raises(ValueError, match="fraction of weights"):
            compact.prune_l1(decoder, amount)


@pytest.mark.skipif(not compact.static_int8_available(), reason="no torch.ao quantized engine")
def test_static_int8_uses_the_same_integers_and_stays_close_to_float(decoder, latents):
    quantized = compact.quantize_static_int8(decoder, latents)
    integers = compact._quantized_weights(quantized)
    assert len(integers) == len(compact.conv_layers(decoder))
    for q, layer in zip(integers, compact.conv_layers(decoder), strict=True):
        assert torch.equal(q, compact.quantize_int8(layer.weight)[0])
    with torch.no_grad():
        for y in latents:
            reference, out = decoder(y), quantized(y)
            assert out.dtype == torch.float32 and out.shape == reference.shape
            error = float((out - reference).abs().mean() / reference.abs().mean())
            assert 0 < error < 0.1, "int8 activations change the output a little, not a lot"


@pytest.mark.skipif(not compact.static_int8_available(), reason="no torch.ao quantized engine")
def test_static_int8_needs_calibration_inputs(decoder):
    with pytest.raises(ValueError, match="calibration is empty"):
        compact.quantize_static_int8(decoder, [])


def test_decoder_table_decodes_the_same_files_with_each_smaller_decoder(latents):
    torch.manual_seed(0)
    codec = get_model("factorized-codec", N=16, M=24).eval()
    rng = np.random.default_rng(0)
    images = {"a": rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)}
    decoders = compact.smaller_decoders(codec, latents, prune_amounts=(0.5,))
    expected = ["float32", "int8 weights"] + (
        ["int8 weights + activations"] if compact.static_int8_available() else []) + [
        "pruned 50%"]
    assert list(decoders) == expected and decoders["float32"] is codec.g_s
    rows = compact.decoder_table(codec, decoders, images)
    assert [r["decoder"] for r in rows] == expected
    assert len({r["bpp"] for r in rows}) == 1, "the encoder, hence the file, is unchanged"
    by = {r["decoder"]: r for r in rows}
    assert by["float32"]["change (dB)"] == 0
    assert by["int8 weights"]["file (kB)"] < 0.35 * by["float32"]["file (kB)"]
    assert by["pruned 50%"]["file (kB)"] == by["float32"]["file (kB)"]
    assert by["pruned 50%"]["deflated (kB)"] < by["float32"]["deflated (kB)"]
    assert codec.g_s is decoders["float32"], "decoder_table changed the codec"
