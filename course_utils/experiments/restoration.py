"""Unit 06's experiments: what transfers to restoration, and what does not.

Every arm runs through the one experiment runner (:mod:`course_utils.experiments.runner`) on
a restoration task of :mod:`course_utils.tasks` (gray Gaussian denoising by default, as the
published tables):

- :func:`restoration_arms`: scratch against the SR source model's feature layers, fine-tuned
  or frozen (:class:`~course_utils.models.fusion.FeatureRestorer`), and unit 04's U-Net with
  its ImageNet encoder, random, frozen or fine-tuned;
- :func:`fusion_arms`: feature fusion :math:`F = \\alpha F_p + (1 - \\alpha) F_t`
  (:class:`~course_utils.models.fusion.FusionRestorer`), one arm per fixed :math:`\\alpha`
  and the learned ones; :func:`learned_alphas` reads what was learned;
- :func:`noise2self_arm`: self-supervised denoising from the noisy photos alone
  (:class:`~course_utils.training.noise2self.Noise2Self`), scored on the true clean ones;
- :func:`run_multitask` and :func:`multitask_table`: one shared trunk with a head per task
  against separate models, at the same total number of training steps;
- :func:`medical_data` and :func:`medical_arms`: the natural-photo denoiser on the unit 05
  medical scans, zero-shot against fine-tuned on a few scans.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from ..data.catalogue import domain_images
from ..data.pairs import MultiTaskPatches
from ..device import seed_everything
from ..evaluation.evaluate import evaluate_images, model_method
from ..models.complexity import count_parameters
from ..models.freeze import freeze, freeze_stages
from ..models.fusion import FusionRestorer, copy_sr_features
from ..models.registry import get_model
from ..tasks import Task, get_task
from ..training.finetune import param_groups
from ..training.loop import fit
from ..training.noise2self import Noise2Self
from ..zoo.shipped import load_pretrained, shipped_model
from .autoencoder import AUTOENCODER
from .runner import Arm, ArmResult, ExperimentData, Results, mean_sd

__all__ = ["fusion_arms", "learned_alphas", "medical_arms", "medical_data", "multitask_table",
           "noise2self_arm", "restoration_arms", "run_multitask"]


def _from_source(source: str, frozen: bool) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        model = get_model("feature-restorer")
        copy_sr_features(model.features, load_pretrained(source)[0])
        if frozen:
            freeze(model.features)
        return model
    return build


def restoration_arms(source: str = "espcn_x3", lr: float = 1e-3, unet: bool = True,
                     backbone: str = "efficientnet_lite0", encoder_lr_factor: float = 0.1,
                     width: int = 16, autoencoder: bool = True) -> list[Arm]:
    """The transfer arms of unit 06, all trained on the same pairs.

    - ``"scratch"``: :class:`~course_utils.models.fusion.FeatureRestorer`, random weights;
    - ``"SR source, fine-tuned"``: the same network, its two feature layers copied from the
      shipped SR model ``source`` (trained on clean LR photos, never on noise), all trained;
    - ``"SR source, frozen"``: those layers kept fixed, only the head trains;
    - with ``unet``, unit 04's ``backbone-unet`` at scale 1 (RGB: a gray image is repeated),
      ``"U-Net, random encoder"``, ``"U-Net, ImageNet frozen"`` and
      ``"U-Net, ImageNet fine-tuned"`` (encoder at ``encoder_lr_factor * lr``);
    - with ``autoencoder``, ``"denoising autoencoder"``: unit 07's
      :class:`~course_utils.models.codec.ConvAutoencoder` (gray, otherwise
      :data:`~course_utils.experiments.autoencoder.AUTOENCODER`: a code of 16 maps at a
      quarter of each side, no skip connection), random weights, trained on the same
      noisy/clean pairs [1]_: it rebuilds the whole image through its bottleneck, where the
      other arms predict only the noise.

    References
    ----------
    .. [1] P. Vincent, H. Larochelle, Y. Bengio, P.-A. Manzagol, "Extracting and Composing
           Robust Features with Denoising Autoencoders", ICML 2008.
    """
    arms = [Arm("scratch", lambda: get_model("feature-restorer"), lr=lr, mode="y"),
            Arm("SR source, fine-tuned", _from_source(source, frozen=False), lr=lr, mode="y"),
            Arm("SR source, frozen", _from_source(source, frozen=True), lr=lr, mode="y")]
    if unet:
        def build(pretrained: bool) -> Callable[[], nn.Module]:
            return lambda: get_model("backbone-unet", scale=1, backbone=backbone,
                                     pretrained=pretrained, width=width)
        arms += [
            Arm("U-Net, random encoder", build(False), lr=lr, mode="rgb"),
            Arm("U-Net, ImageNet frozen", lambda: freeze_stages(build(True)(), 5), lr=lr,
                mode="rgb"),
            Arm("U-Net, ImageNet fine-tuned", build(True), lr=lr, mode="rgb",
                optimizer=lambda m: torch.optim.Adam(param_groups(m, lr,
                                                                  encoder_lr_factor * lr))),
        ]
    if autoencoder:
        arms.append(Arm("denoising autoencoder",
                        lambda: get_model("autoencoder", **{**AUTOENCODER, "channels": 1}),
                        lr=lr, mode="y"))
    return arms


def _fusion(source: str, alpha: float, fusion: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        model = get_model("fusion-restorer", alpha=alpha, fusion=fusion)
        freeze(copy_sr_features(model.pretrained, load_pretrained(source)[0]))
        return model
    return build


def _alpha_groups(model: FusionRestorer, lr: float, alpha_lr: float) -> torch.optim.Adam:
    alphas = [p for n, p in model.named_parameters() if n in ("a1", "a2")]
    rest = [p for n, p in model.named_parameters() if n not in ("a1", "a2") and p.requires_grad]
    return torch.optim.Adam([{"params": rest, "lr": lr}, {"params": alphas, "lr": alpha_lr}])


def fusion_arms(alphas: Iterable[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
                learned: Iterable[str] = ("layer", "channel"), source: str = "espcn_x3",
                lr: float = 1e-3, alpha_lr: float = 1e-2) -> list[Arm]:
    """One :class:`~course_utils.models.fusion.FusionRestorer` arm per fixed ``alpha``
    (``"fusion, α = 0.25"``), and one per kind of learned ``alpha`` (``"fusion, learned per
    layer"``, started at 0.5). The pretrained stream is ``source``'s feature layers, frozen.

    The learned :math:`\alpha` train at ``alpha_lr``: Adam moves a parameter by about its
    learning rate per step, so at ``lr`` a few hundred steps could not take :math:`\alpha`
    far from where it started, whatever the data preferred.
    """
    arms = [Arm(f"fusion, α = {a:g}", _fusion(source, a, "fixed"), lr=lr, mode="y")
            for a in alphas]
    arms += [Arm(f"fusion, learned per {kind}", _fusion(source, 0.5, kind), lr=lr, mode="y",
                 optimizer=lambda m: _alpha_groups(m, lr, alpha_lr))
             for kind in learned]
    return arms


def learned_alphas(model: FusionRestorer) -> list[dict]:
    """What a fusion model's :math:`\\alpha` became: per layer, the mean, the smallest and
    the largest value (one value per layer, or one per channel)."""
    rows = []
    for i, a in enumerate(model.alphas(), start=1):
        a = a.detach().flatten()
        rows.append({"layer": i, "values": a.numel(), "mean α": float(a.mean()),
                     "min α": float(a.min()), "max α": float(a.max())})
    return rows


def noise2self_arm(lr: float = 1e-3, grid: int = 4) -> Arm:
    """``"Noise2Self (noisy only)"``: the scratch network trained on the noisy training photos
    alone (one fixed noisy shot each, never a clean one), with Noise2Self's masking."""
    return Arm("Noise2Self (noisy only)",
               lambda: Noise2Self(get_model("feature-restorer"), grid), lr=lr,
               loss=lambda model: model.loss, data="noisy", mode="y")


def run_multitask(data: Sequence[ExperimentData], *, epochs: int, seeds: Iterable[int] = (0,),
                  lr: float = 1e-3, device: torch.device | str = "cpu",
                  progress: bool = True) -> Results:
    """Separate models against one shared model, at the same total budget.

    ``data`` holds one :class:`~course_utils.experiments.runner.ExperimentData` per task, on
    the same photos. For each seed, each task gets its own
    :class:`~course_utils.models.fusion.FeatureRestorer` trained for ``epochs`` of its
    batches (arm ``"separate"``), and one model with a head per task
    (``get_model("feature-restorer", tasks=K)``) trains on all K tasks' batches mixed
    (:class:`~course_utils.data.pairs.MultiTaskPatches`): K times the steps of one separate
    model, the steps of all of them together (arm ``"shared"``). Each is scored on each
    task's held-out images.

    Returns
    -------
    Results : runs named ``"separate · TASK"`` and ``"shared · TASK"``.
    """
    tasks = [d.task.name for d in data]
    results = Results()
    for seed in seeds:
        loaders = [d.loader(list(d.train), seed, mode="y") for d in data]
        for d, loader in zip(data, loaders, strict=True):
            seed_everything(seed)
            model = get_model("feature-restorer")
            start = time.perf_counter()
            history = fit(model, loader, d.val_pairs(), epochs=epochs, lr=lr, device=device,
                          progress=progress)
            seconds = time.perf_counter() - start
            model = model.cpu().eval()
            scores = evaluate_images(d.heldout, d.task, model_method(model, "separate"))
            results.append(ArmResult(f"separate · {d.task.name}", seed, history, scores,
                                     seconds, count_parameters(model), model))
        seed_everything(seed)
        shared = get_model("feature-restorer", tasks=len(data))
        mixed = DataLoader(MultiTaskPatches([loader.dataset for loader in loaders]),
                           batch_size=data[0].batch)
        val = [(x, y, torch.tensor([k])) for k, d in enumerate(data) for x, y in d.val_pairs()]
        start = time.perf_counter()
        history = fit(shared, mixed, val, epochs=epochs, lr=lr, device=device,
                      progress=progress)
        seconds = time.perf_counter() - start
        shared = shared.cpu().eval()
        for k, (name, d) in enumerate(zip(tasks, data, strict=True)):
            view = shared.for_task(k)
            scores = evaluate_images(d.heldout, d.task, model_method(view, "shared"))
            results.append(ArmResult(f"shared · {name}", seed, history, scores, seconds,
                                     count_parameters(shared), view))
    return results


def multitask_table(results: Results, tasks: Sequence[Task | str]) -> list[dict]:
    """Per task: held-out PSNR of the separate and the shared model (mean ± sd over seeds),
    and shared minus separate, seed by seed; a last row adds up the parameters."""
    rows = []
    for task in tasks:
        name = get_task(task).name
        separate, shared = results.runs(f"separate · {name}"), results.runs(f"shared · {name}")
        diffs = [b.heldout.mean_psnr - a.heldout.mean_psnr
                 for a, b in zip(separate, shared, strict=True)]
        (m_a, s_a), (m_b, s_b) = (mean_sd(r.heldout.mean_psnr for r in runs)
                                  for runs in (separate, shared))
        d, s_d = mean_sd(diffs)
        rows.append({"task": name, "separate (dB)": m_a, "± separate": s_a, "shared (dB)": m_b,
                     "± shared": s_b, "shared − separate (dB)": d, "± Δ": s_d,
                     "seeds": len(diffs)})
    parameters = {"separate": sum(results.runs(f"separate · {get_task(t).name}")[0].trainable
                                  for t in tasks),
                  "shared": results.runs(f"shared · {get_task(tasks[0]).name}")[0].trainable}
    rows.append({"task": "parameters, all tasks", "separate (dB)": parameters["separate"],
                 "± separate": np.nan, "shared (dB)": parameters["shared"], "± shared": np.nan,
                 "shared − separate (dB)": np.nan, "± Δ": np.nan, "seeds": np.nan})
    return rows


def medical_data(task: Task | str = "denoise-25-gray", *, train_limit: int | None = None,
                 heldout_limit: int | None = None, **settings) -> ExperimentData:
    """Unit 05's medical scans (split by scan) as the data of a restoration experiment;
    ``settings`` are :class:`~course_utils.experiments.runner.ExperimentData`'s."""
    return ExperimentData("medical", task, domain_images("medical", "train", train_limit),
                          domain_images("medical", "val"),
                          domain_images("medical", "heldout", heldout_limit), **settings)


def medical_arms(shipped: str = "dncnn_denoise-25-gray", finetune_lr: float = 1e-4,
                 lr: float = 1e-3) -> list[Arm]:
    """``"fine-tuned"``: the shipped natural-photo denoiser trained further on the scans at
    ``finetune_lr``; ``"scratch"``: its architecture with random weights at ``lr``. The
    zero-shot reference is the shipped model itself, scored directly."""
    def tuned() -> nn.Module:
        return load_pretrained(shipped)[0].train()

    def scratch() -> nn.Module:  # the registry's row of the shipped model, no weights read
        spec = shipped_model(shipped)
        return get_model(spec.architecture, **spec.config)

    return [Arm("fine-tuned", tuned, lr=finetune_lr, mode="y"),
            Arm("scratch", scratch, lr=lr, mode="y")]
