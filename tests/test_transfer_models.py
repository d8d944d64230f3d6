"""Tests of the encoder-decoder models (course_utils.models.encoder_decoder), freezing
(course_utils.models.freeze), the fine-tuning tools (course_utils.training.finetune) and the
perceptual and SSIM losses (course_utils.training.losses)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from course_utils.models import count_parameters, get_model
from course_utils.models.backbones import backbone_stages
from course_utils.models.encoder_decoder import BackboneUNet, FeatureSubPixelSR
from course_utils.models.freeze import encoder_parameters, freeze_stages, trainable_summary
from course_utils.training.finetune import (
    L2SPLoss,
    distance_to_source,
    l2_sp_penalty,
    param_groups,
)
from course_utils.training.losses import PerceptualLoss, SSIMLoss


def bicubic(x, scale):
    return x if scale == 1 else F.interpolate(x, scale_factor=scale, mode="bicubic")


@pytest.mark.parametrize("backbone", ["efficientnet_lite0", "resnet18", "vgg16"])
@pytest.mark.parametrize("scale", [1, 4])
def test_unet_any_size_starts_at_bicubic(backbone, scale):
    torch.manual_seed(0)
    model = BackboneUNet(backbone, scale=scale, pretrained=False).eval()
    x = torch.rand(2, 3, 30, 45)  # odd sizes, not multiples of the encoder's stride
    with torch.no_grad():
        out = model(x)
    assert out.shape == (2, 3, 30 * scale, 45 * scale)
    torch.testing.assert_close(out, bicubic(x, scale))  # the residual head starts at zero


def test_feature_subpixel_sr():
    model = FeatureSubPixelSR(scale=3, stages=2).eval()
    x = torch.rand(1, 3, 20, 25)
    with torch.no_grad():
        out = model(x)
    assert out.shape == (1, 3, 60, 75)
    torch.testing.assert_close(out, bicubic(x, 3))
    with pytest.raises(ValueError, match="stages must be 1 to 5"):
        FeatureSubPixelSR(stages=6, pretrained=False)
    with pytest.raises(ValueError, match="scale must be 2 or more"):
        FeatureSubPixelSR(scale=1, pretrained=False)


def test_a_frozen_encoder_does_not_move():
    torch.manual_seed(0)
    model = BackboneUNet("efficientnet_lite0", scale=2, width=8)
    freeze_stages(model, 5)
    encoder_before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    parts = trainable_summary(model)
    # the encoder is the backbone without its classifier: 3.0 M of Lite0's 4.7 M parameters
    assert parts["encoder"][0] == 0 and 2_900_000 < parts["encoder"][1] < 3_000_000
    assert count_parameters(model, trainable_only=True) == sum(t for t, _ in parts.values())
    optimizer = torch.optim.Adam(param_groups(model, 1e-3, 1e-4))
    assert len(optimizer.param_groups) == 1  # nothing of the encoder trains
    model.train()
    x = torch.rand(2, 3, 32, 32)
    for _ in range(2):
        loss = F.mse_loss(model(x), torch.rand(2, 3, 64, 64))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for key, value in model.encoder.state_dict().items():  # weights and BN statistics
        torch.testing.assert_close(value, encoder_before[key], msg=key)
    assert model.head.weight.abs().sum() > 0, "the decoder did train"


def test_partial_freezing_and_discriminative_learning_rates():
    model = BackboneUNet("resnet18", scale=2, pretrained=False, width=8)
    freeze_stages(model, 2)
    stage1 = model.encoder.conv1.weight
    deep = model.encoder.layer4[0].conv1.weight
    assert not stage1.requires_grad and deep.requires_grad
    groups = param_groups(model, lr=1e-3, encoder_lr=1e-5)
    assert [g["lr"] for g in groups] == [1e-3, 1e-5]
    encoder_trainable = sum(p.numel() for p in groups[1]["params"])
    assert encoder_trainable == trainable_summary(model)["encoder"][0]
    model.train()
    assert not model.encoder.bn1.training and model.encoder.layer4[0].bn1.training
    freeze_stages(model, 0)
    assert all(p.requires_grad for p in model.encoder.parameters())
    with pytest.raises(ValueError, match="frozen must be 0 to 5"):
        freeze_stages(model, 6)
    with pytest.raises(ValueError, match="encoder"):
        param_groups(torch.nn.Conv2d(1, 1, 1), 1e-3, 1e-4)


def test_losses():
    torch.manual_seed(0)
    y = torch.rand(2, 3, 32, 32)
    noisy = (y + 0.1 * torch.randn_like(y)).clamp(0, 1).requires_grad_(True)
    perceptual = PerceptualLoss(stages=2)
    assert perceptual(y, y).item() == pytest.approx(0, abs=1e-6)
    value = perceptual(noisy, y)
    assert value.item() > F.mse_loss(noisy, y).item()  # the feature terms add to the pixel one
    value.backward()
    assert noisy.grad is not None and noisy.grad.abs().sum() > 0
    assert all(p.grad is None for p in perceptual.net.parameters())
    gray = perceptual(noisy[:, :1], y[:, :1])
    assert gray.item() > 0
    assert SSIMLoss()(y, y).item() == pytest.approx(0, abs=1e-6)
    assert 0 < SSIMLoss()(noisy, y).item() < 1
    with pytest.raises(ValueError, match="same shape"):
        perceptual(y, y[:, :, :16])


def test_perceptual_loss_is_the_weighted_sum_of_its_terms():
    torch.manual_seed(0)
    y = torch.rand(2, 3, 32, 32)
    noisy = (y + 0.1 * torch.randn_like(y)).clamp(0, 1)
    terms = PerceptualLoss(stages=2).terms(noisy, y)
    assert terms["pixel"].item() == pytest.approx(F.mse_loss(noisy, y).item())
    assert terms["feature"].item() > 10 * terms["pixel"].item(), "the scales differ a lot"
    weighted = PerceptualLoss(stages=2, pixel_weight=2.0, feature_weight=1e-3)(noisy, y)
    assert weighted.item() == pytest.approx(2 * terms["pixel"].item()
                                            + 1e-3 * terms["feature"].item(), rel=1e-5)
    with pytest.raises(ValueError, match="weights must be >= 0"):
        PerceptualLoss(stages=2, feature_weight=-1)


def test_l2_sp_penalty_and_loss():
    torch.manual_seed(0)
    model = get_model("espcn", scale=2)
    source = {k: v.clone() for k, v in model.state_dict().items()}
    assert l2_sp_penalty(model, source).item() == 0  # at the starting point
    with torch.no_grad():
        model.conv1.weight += 0.1
    expected = 0.5 * 0.2 * (0.1**2) * model.conv1.weight.numel()
    assert l2_sp_penalty(model, source, alpha=0.2).item() == pytest.approx(expected, rel=1e-4)
    # a parameter the source lacks is decayed towards zero with beta
    partial = {k: v for k, v in source.items() if not k.startswith("conv3")}
    conv3 = sum(p.pow(2).sum().item() for n, p in model.named_parameters()
                if n.startswith("conv3"))
    value = l2_sp_penalty(model, partial, alpha=0.2, beta=0.5).item()
    assert value == pytest.approx(expected + 0.25 * conv3, rel=1e-4)
    # as a fit loss: training pulls the weights back towards the source
    loss = L2SPLoss(model, alpha=10.0)
    x, y = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 16, 16)
    assert loss(model(x), y).item() == pytest.approx(F.mse_loss(model(x), y).item())
    with torch.no_grad():
        model.conv1.weight += 0.5
    before = l2_sp_penalty(model, loss.source).item()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(5):
        optimizer.zero_grad()
        loss(model(x), y).backward()
        optimizer.step()
    assert l2_sp_penalty(model, loss.source).item() < before


def test_encoder_parameters_counts_the_stages_a_design_runs():
    unet = freeze_stages(BackboneUNet(scale=2, pretrained=False), 3)
    assert encoder_parameters(unet) == trainable_summary(unet)["encoder"]
    joint = FeatureSubPixelSR(scale=3, stages=2, pretrained=False)
    run = [p for stage in backbone_stages(joint.encoder)[:2] for p in stage.parameters()]
    assert encoder_parameters(joint) == (sum(p.numel() for p in run),) * 2
    assert encoder_parameters(joint)[1] < trainable_summary(joint)["encoder"][1]


def test_distance_to_source():
    source = get_model("espcn", scale=2, features=(4, 4))
    model = get_model("espcn", scale=2, features=(4, 4))
    model.load_state_dict(source.state_dict())
    assert distance_to_source(model, source) == 0
    with torch.no_grad():
        model.conv3.bias.add_(0.5)
    assert distance_to_source(model, source) == pytest.approx(0.5 * model.conv3.bias.numel() ** 0.5)
