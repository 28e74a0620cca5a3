from __future__ import annotations

import numpy as np
import pytest
import torch

from spacead.models.inpaint import (
    CompletionNet,
    InpaintConfig,
    center_mask,
    corrupt,
    score_tiles,
    standardize,
)
from tests.helpers import terrain_tiles

SMALL = InpaintConfig(width=2, input_size=64, mask_size=16, score_size=12)


def test_output_shape_equals_input():
    net = CompletionNet(InpaintConfig(width=4))
    with torch.no_grad():
        out = net(torch.zeros(2, 2, 128, 128))
    assert out.shape == (2, 1, 128, 128)


def test_layer_structure():
    net = CompletionNet(InpaintConfig(width=32))
    convs = list(net.convs)
    assert len(convs) == 17
    assert [c.stride[0] for c in convs].index(2) == 3  # layer 4 halves, after the third
    assert [c.stride[0] for c in convs].count(2) == 1
    assert [c.dilation[0] for c in convs[6:10]] == [2, 4, 8, 16]
    assert all(c.dilation[0] == 1 for i, c in enumerate(convs) if not 6 <= i < 10)
    assert all(c.padding_mode == "reflect" for c in convs)
    assert convs[0].in_channels == 2 and convs[-1].out_channels == 1
    assert convs[3].out_channels == 128 and convs[0].out_channels == 32
    assert isinstance(net.act, torch.nn.ELU)


def test_config_validation():
    with pytest.raises(ValueError, match="width must be a positive integer"):
        InpaintConfig(width=0)
    with pytest.raises(ValueError, match="input_size must be even"):
        InpaintConfig(input_size=32)
    with pytest.raises(ValueError, match="score_size <= mask_size"):
        InpaintConfig(mask_size=16, score_size=24)
    assert InpaintConfig.from_dict(SMALL.to_dict()) == SMALL


def test_corrupt_masks_centre():
    tiles = torch.ones(1, 64, 64)
    tiles[0, 30, 30] = 100.0  # inside the mask: must not leak
    x = corrupt(tiles, center_mask(64, 16))
    assert x.shape == (1, 2, 64, 64)
    assert torch.all(x[0, 0] == 1.0)
    assert x[0, 1].sum() == 256


def _complete_by_hand(net, tiles):
    """Standardise by the known pixels in NumPy, fill, run the layers, map back."""
    known = np.ones((64, 64), bool)
    known[24:40, 24:40] = False
    mean = np.array([t[known].mean() for t in tiles])[:, None, None]
    std = np.maximum(np.array([t[known].std() for t in tiles]), 0.01)[:, None, None]
    z = (tiles - mean) / std
    filled = np.where(known, z, 0.0)  # standardised known pixels have mean 0
    x = np.stack([filled, np.broadcast_to(~known, z.shape)], axis=1).astype(np.float32)
    with torch.no_grad():
        out = net(torch.from_numpy(x))[:, 0].numpy()
    return out * std + mean


def test_standardize_uses_known_pixels_only():
    tiles = torch.from_numpy(terrain_tiles(2))
    mask = center_mask(64, 16)
    tiles[:, 24:40, 24:40] = 50.0  # the masked centre must not move the statistics
    z, mean, std = standardize(tiles, mask)
    known = mask == 0
    expected = tiles[:, known].numpy()
    np.testing.assert_allclose(mean.ravel(), expected.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(std.ravel(), expected.std(axis=1), rtol=1e-4)
    assert torch.allclose(z[:, known].mean(dim=1), torch.zeros(2), atol=1e-5)
    assert torch.allclose(z[:, known].std(dim=1, unbiased=False), torch.ones(2), atol=1e-4)
    flat = torch.full((1, 64, 64), 0.3)
    z, _, std = standardize(flat, mask)
    assert float(std) == pytest.approx(0.01) and torch.all(z == 0)


def test_residual_network_starts_from_mean_fill():
    """With its last layer zeroed, the residual network returns the mean-filled tile."""
    net = CompletionNet(SMALL).eval()
    with torch.no_grad():
        net.convs[-1].weight.zero_()
    tiles = torch.from_numpy(terrain_tiles(3))
    completed, _, _ = net.complete(tiles)
    known = center_mask(64, 16) == 0
    fill = tiles[:, known].mean(dim=1)
    assert torch.allclose(completed[:, known], tiles[:, known], atol=1e-5)
    assert torch.allclose(
        completed[:, 24:40, 24:40], fill[:, None, None].expand(3, 16, 16), atol=1e-5
    )


def test_article_network_without_options():
    plain = InpaintConfig(width=2, input_size=64, mask_size=16, score_size=12, residual=False,
                          standardize=False)  # fmt: skip
    net = CompletionNet(plain).eval()
    tiles = torch.from_numpy(terrain_tiles(2))
    with torch.no_grad():
        expected = net(corrupt(tiles, center_mask(64, 16)))[:, 0]
        assert torch.equal(net.complete(tiles)[0], expected)
    with pytest.raises(ValueError, match="residual must be True or False, got 1"):
        InpaintConfig(residual=1)  # type: ignore[arg-type]


def test_score_is_centre_error():
    net = CompletionNet(SMALL).eval()
    tiles = terrain_tiles(3)
    out = _complete_by_hand(net, tiles)
    expected = np.abs(out - tiles)[:, 26:38, 26:38].mean(axis=(1, 2))
    np.testing.assert_allclose(score_tiles(net, tiles), expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"tiles must have shape \(B, 64, 64\)"):
        score_tiles(net, tiles[:, :32, :32])


def test_peak_score_is_largest_3x3_mean_of_centre_error():
    from scipy.ndimage import uniform_filter

    net = CompletionNet(SMALL).eval()
    tiles = terrain_tiles(3)
    out = _complete_by_hand(net, tiles)
    err = np.abs(out - tiles)[:, 26:38, 26:38].astype(np.float64)
    expected = [uniform_filter(e, 3, mode="constant")[1:-1, 1:-1].max() for e in err]
    np.testing.assert_allclose(score_tiles(net, tiles, "peak"), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="statistic must be 'peak' or 'mae', got 'max'"):
        score_tiles(net, tiles, "max")


def test_names_that_moved_still_import_with_a_warning():
    import spacead.detect.inpaint as inpaint
    import spacead.survey as survey

    with pytest.warns(DeprecationWarning, match="moved to spacead.survey.scan_image"):
        assert inpaint.scan_image is survey.scan_image
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        inpaint.nothing  # noqa: B018


def test_one_centre_geometry_for_the_network_and_the_tiles():
    from spacead.models.inpaint import TileCentre

    # the article's 256-px tiles: a 64-px masked centre and a 48-px scored one
    assert (TileCentre(256).masked, TileCentre(256).scored) == (64, 48)
    for side in (64, 128, 256):
        c = TileCentre(side)
        net = InpaintConfig.scaled(8, side)
        rows = np.flatnonzero(center_mask(side, net.mask_size).numpy().any(axis=1))
        # the network masks exactly where the tile geometry says the masked centre is
        assert (rows[0], rows[-1] + 1) == (c.masked_offset, c.masked_offset + c.masked)
        # and the scored centre lies inside the masked one
        assert c.masked_offset <= c.scored_offset
        assert c.scored_offset + c.scored <= c.masked_offset + c.masked
