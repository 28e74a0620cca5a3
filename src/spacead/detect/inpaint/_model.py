"""The 17-layer feed-forward image-completion network (Haselmann et al., 2018).

Paper: M. Haselmann, D. P. Gruber, P. Tabatabai, "Anomaly Detection using Deep
Learning based Image Completion", ICMLA 2018, doi:10.1109/ICMLA.2018.00201; applied to
HiRISE frames in M. Sivashanmugam, "Anomaly Detection on Mars Using Deep Learning",
Omdena, 2021.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn
from torch.nn import functional

# (kernel, dilation, stride, channel multiple of `width`) of layers 1–12; layer 13 is
# bilinear ×2 up-scaling then a convolution, layers 14–17 refine at input resolution.
_LAYERS: tuple[tuple[int, int, int, float], ...] = (
    (5, 1, 1, 1),
    (3, 1, 1, 2),
    (3, 1, 1, 2),
    (3, 1, 2, 4),  # layer 4: strided, halves the resolution after the third layer
    (3, 1, 1, 4),
    (3, 1, 1, 4),
    (3, 2, 1, 4),  # layers 7–10: dilated convolutions widen the receptive field
    (3, 4, 1, 4),
    (3, 8, 1, 4),
    (3, 16, 1, 4),
    (3, 1, 1, 4),
    (3, 1, 1, 4),
)
_TAIL: tuple[float, ...] = (2, 1, 1, 0.5)  # layers 13–16 (13 after the up-scaling)


@dataclass(frozen=True)
class InpaintConfig:
    """Architecture and masking of the completion network (plain types only).

    Parameters
    ----------
    width : int
        Channels of the first layer; deeper layers use 2× and 4× this (paper: 32).
    input_size : int
        Side of the square model input in pixels (256-px tiles are resized to it).
    mask_size : int
        Side of the masked central square to complete (paper: 32 at 128).
    score_size : int
        Side of the central square whose mean absolute error is the score (paper: 24).
    center_weight : float
        Weight of the masked centre in the L1 loss; the rest weighs ``1 - center_weight``.
    """

    width: int = 32
    input_size: int = 128
    mask_size: int = 32
    score_size: int = 24
    center_weight: float = 0.9

    def __post_init__(self) -> None:
        for name in ("width", "input_size", "mask_size", "score_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.input_size % 2 or self.input_size // 2 <= 16:
            raise ValueError(
                f"input_size must be even and at least 34 (dilation 16 at half "
                f"resolution), got {self.input_size}"
            )
        if not self.score_size <= self.mask_size < self.input_size:
            raise ValueError(
                "expected score_size <= mask_size < input_size, got "
                f"{self.score_size}, {self.mask_size}, {self.input_size}"
            )
        if not 0.0 <= self.center_weight <= 1.0:
            raise ValueError(f"center_weight must be in [0, 1], got {self.center_weight!r}")

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a dict of plain Python types."""
        return asdict(self)

    @classmethod
    def scaled(cls, width: int, input_size: int) -> InpaintConfig:
        """The article's proportions at any input size: masked centre 1/4, scored 3/16.

        Examples
        --------
        >>> InpaintConfig.scaled(32, 128) == InpaintConfig()
        True
        """
        return cls(width, input_size, input_size // 4, input_size * 3 // 16)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InpaintConfig:
        """Build a configuration from :meth:`to_dict` output, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _conv(c_in: int, c_out: int, kernel: int, dilation: int = 1, stride: int = 1) -> nn.Conv2d:
    pad = dilation * (kernel - 1) // 2
    return nn.Conv2d(
        c_in, c_out, kernel, stride=stride, dilation=dilation, padding=pad,
        padding_mode="reflect",
    )  # fmt: skip


class CompletionNet(nn.Module):
    """Feed-forward completion network: 17 convolutions, reflection padding, ELU.

    The input has two channels, the tile with its centre filled by the mean of the
    known pixels, and the binary mask (1 in the centre); the output is the completed
    one-channel tile of the same size.

    Parameters
    ----------
    config : InpaintConfig
        Width and sizes.

    Examples
    --------
    >>> net = CompletionNet(InpaintConfig(width=4, input_size=64, mask_size=16, score_size=12))
    >>> net(torch.zeros(2, 2, 64, 64)).shape
    torch.Size([2, 1, 64, 64])
    >>> len(net.convs)
    17
    """

    def __init__(self, config: InpaintConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        layers: list[nn.Conv2d] = []
        c_in = 2
        for kernel, dilation, stride, mult in _LAYERS:
            c_out = max(1, int(mult * w))
            layers.append(_conv(c_in, c_out, kernel, dilation, stride))
            c_in = c_out
        for mult in _TAIL:
            c_out = max(1, int(mult * w))
            layers.append(_conv(c_in, c_out, 3))
            c_in = c_out
        layers.append(_conv(c_in, 1, 3))  # layer 17: the completed tile
        self.convs = nn.ModuleList(layers)
        self.act = nn.ELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Complete a batch of shape (B, 2, S, S) into (B, 1, S, S)."""
        size = x.shape[-2:]
        for i, conv in enumerate(self.convs):
            if i == len(_LAYERS):  # layer 13: bilinear up-scaling back to the input size
                x = functional.interpolate(x, size=size, mode="bilinear", align_corners=False)
            x = conv(x)
            if i < len(self.convs) - 1:
                x = self.act(x)
        return x


def center_mask(size: int, side: int) -> torch.Tensor:
    """A (size, size) float mask with ones on the central `side` × `side` square."""
    mask = torch.zeros(size, size)
    lo = (size - side) // 2
    mask[lo : lo + side, lo : lo + side] = 1.0
    return mask


def corrupt(tiles: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mask the centre of (B, S, S) tiles and stack the mask: (B, 2, S, S) network input.

    The masked pixels take the mean of each tile's known pixels.
    """
    known = 1.0 - mask
    fill = (tiles * known).sum(dim=(1, 2), keepdim=True) / known.sum()
    corrupted = tiles * known + fill * mask
    return torch.stack([corrupted, mask.expand_as(tiles)], dim=1)


def weighted_l1(
    output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, center_weight: float
) -> torch.Tensor:
    r"""L1 reconstruction loss with the masked centre weighted differently.

    .. math::
        L = \lambda \frac{\lVert M \odot (X - \hat X) \rVert_1}{\lVert M \rVert_1}
          + (1 - \lambda) \frac{\lVert (1 - M) \odot (X - \hat X) \rVert_1}{\lVert 1 - M \rVert_1}

    averaged over the batch, with :math:`\lambda` = `center_weight`.
    """
    err = (output - target).abs()
    centre = (err * mask).sum(dim=(-2, -1)) / mask.sum()
    rest = (err * (1 - mask)).sum(dim=(-2, -1)) / (1 - mask).sum()
    return (center_weight * centre + (1 - center_weight) * rest).mean()
