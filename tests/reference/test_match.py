"""Photometric matching: known light scales recovered, robust to the hazard, saturation, errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from spacead._tone import encode_slope
from spacead.reference import TONE_CURVES, decode, encode, fit_photometric, to_uint8
from spacead.render import LightComponents, ReferenceRenderer
from tests.reference.conftest import SUN, camera, frame_spec, make_frame


@pytest.fixture(scope="module")
def render(model):
    return ReferenceRenderer(model).render(
        camera(), sun_direction=SUN, spotlight=frame_spec(camera()).spotlight
    )


@pytest.mark.parametrize(
    "scales", [(0.8, 1.4, 0.02, 1.0), (1.6, 0.3, 0.0, 1.0), (0.5, 2.5, 0.05, 1.0)]
)
def test_known_light_scales_are_recovered_despite_the_hazard(model, render, scales):
    frame, mask = make_frame(model, camera(), scales=scales)
    assert (mask == 2).sum() > 200  # the hazard covers station pixels the fit must ignore
    truth = np.asarray(scales)[:2, None] * np.ones((1, 3))
    free = fit_photometric(frame, render, prior=0.0)  # no pull towards the nominal mix
    # 6 % : the hazard changes the bounce light around it, which the free fit may trade
    # against the spotlight's share
    np.testing.assert_allclose(free.scales[:2], truth, rtol=0.06)
    fit = fit_photometric(frame, render)  # the default's weak prior biases a little, never much
    np.testing.assert_allclose(fit.scales[:2], truth, rtol=0.3)
    assert fit.scales[2].max() < 0.08
    assert fit.fitted and fit.n_pixels > 1000 and fit.residual < 3.0  # ~ the frame's noise
    clean, _ = make_frame(model, camera(), scales=scales, noise=0.0)
    station = (mask == 1) & (render.mask == 1)
    for made, levels in ((free, 1), (fit, 3)):
        image = made.apply(render)
        assert np.median(np.abs(image[station].astype(int) - clean[station].astype(int))) <= levels
        space = cv2.erode((render.mask == 0).view(np.uint8), np.ones((3, 3), np.uint8)) > 0
        assert np.all(image[space] == 0)  # space stays black beyond the silhouettes' filter


def test_saturated_sunlit_pixels_do_not_drop_the_sun(model, render):
    """Every sunlit pixel clipped at 255: the Sun is only bounded, and keeps its share."""
    frame, _ = make_frame(model, camera(), scales=(6.0, 1.0, 0.0, 1.0), hazard=False)
    sunlit = render.radiance[..., 0, :].max(axis=-1) > 0.05
    assert np.mean(frame[sunlit & (render.mask == 1)].max(axis=1) >= 250) > 0.5
    fit = fit_photometric(frame, render)
    assert fit.scales[0].min() > 1.0  # without censoring it would fall towards 0
    image = fit.apply(render)
    assert np.mean(image[sunlit & (render.mask == 1)].max(axis=1) >= 240) > 0.5


def test_tone_curves_round_trip_and_the_lookup_table_rounds():
    x = np.linspace(0.0, 1.0, 1001)
    for tone in TONE_CURVES:
        np.testing.assert_allclose(decode(encode(x, tone), tone), x, atol=1e-9)
        step = 1e-6
        numeric = (encode(x[1:-1] + step, tone) - encode(x[1:-1] - step, tone)) / (2 * step)
        np.testing.assert_allclose(
            encode_slope(x[1:-1], tone)[x[1:-1] > 0.01], numeric[x[1:-1] > 0.01], rtol=1e-4
        )
    lin = np.random.default_rng(0).uniform(0, 1, (50, 3)).astype(np.float32)
    np.testing.assert_array_equal(
        to_uint8(lin, "srgb"), np.rint(255 * encode(lin, "srgb")).astype(np.uint8)
    )


def test_too_few_station_pixels_give_the_nominal_scales():
    c = LightComponents(
        np.zeros((20, 20, 4, 3), np.float32),
        np.zeros((20, 20), np.uint8),
        np.full((20, 20), np.inf, np.float32),
    )
    fit = fit_photometric(np.zeros((20, 20, 3), np.uint8), c)
    assert not fit.fitted
    np.testing.assert_array_equal(fit.scales[:, 0], (1.0, 1.0, 0.0, 1.0))  # K = 4 given
    assert fit.to_dict()["residual"] is None


def test_bad_input(render):
    with pytest.raises(
        ValueError,
        match=r"query must have shape \(120, 160, 3\) to match the render, got \(10, 10, 3\)",
    ):
        fit_photometric(np.zeros((10, 10, 3), np.uint8), render)
    with pytest.raises(ValueError, match=r"tone must be one of srgb, gamma2.2, linear, got 'log'"):
        fit_photometric(np.zeros((120, 160, 3), np.uint8), render, tone="log")
    with pytest.raises(ValueError, match=r"nominal must be 6 finite scales >= 0"):
        fit_photometric(np.zeros((120, 160, 3), np.uint8), render, nominal=(1, 1, -1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"nominal must be 6 finite scales >= 0, got \[1.0, 1.0\]"):
        fit_photometric(np.zeros((120, 160, 3), np.uint8), render, nominal=(1, 1))
    with pytest.raises(ValueError, match=r"material_prior must be a finite number >= 0"):
        fit_photometric(np.zeros((120, 160, 3), np.uint8), render, material_prior=-1.0)
    with pytest.raises(ValueError, match=r"prior must be a finite number >= 0"):
        fit_photometric(np.zeros((120, 160, 3), np.uint8), render, prior=float("nan"))


def test_the_fit_kernel_uses_the_same_tone_curves():
    from spacead.reference._kernels import TONE_IDS, _decode, _encode, _encode_slope, _slope

    x = np.concatenate([np.linspace(-0.1, 1.1, 241), [0.0031308, 1e-4, 0.999]])
    for tone, tid in TONE_IDS.items():
        np.testing.assert_allclose([_encode(v, tid) for v in x], encode(x, tone), atol=1e-9)
        np.testing.assert_allclose([_decode(v, tid) for v in x], decode(x, tone), atol=1e-9)
        slope = encode_slope(np.clip(x, 1e-4, 0.999), tone)
        np.testing.assert_allclose([_slope(v, tid) for v in x], slope, rtol=1e-9)
        pairs = np.array([_encode_slope(v, tid) for v in x])
        np.testing.assert_allclose(pairs[:, 0], encode(x, tone), atol=1e-9)
        np.testing.assert_allclose(pairs[:, 1], slope, rtol=1e-9)


def test_nnls_by_active_sets_equals_scipy():
    from scipy.optimize import nnls

    from spacead.reference._kernels import _nnls_normal

    rng = np.random.default_rng(4)
    for _ in range(50):
        a = rng.normal(size=(40, 4)) * rng.uniform(0.1, 2, 4)
        b = rng.normal(size=40) + a @ rng.normal(size=4)
        expected, _ = nnls(a, b)
        np.testing.assert_allclose(_nnls_normal(a.T @ a, a.T @ b), expected, atol=1e-8)


def test_fit_pixels_stay_off_edges_and_inside_the_image(render):
    from spacead.reference import fit_mask, fit_pixels

    idx = fit_pixels(render, edge_px=2)
    mask = fit_mask(render, edge_px=2)
    assert mask.sum() == idx.size and np.all(render.mask.reshape(-1)[idx] == 1)
    rows, cols = np.divmod(idx, render.mask.shape[1])
    assert rows.min() >= 2 and cols.min() >= 2 and rows.max() < 118 and cols.max() < 158
    near_edge = cv2.dilate((render.mask != 1).astype(np.uint8), np.ones((5, 5))) > 0
    assert not np.any(mask & near_edge)
    assert fit_pixels(render, limit=100).size == 100


def test_a_wrong_reflectance_in_the_file_is_absorbed_by_its_material_gain(model, render):
    """The frame's gold is 0.6 x the model's: its gain recovers it, the others stay near 1.

    A weak prior (worth 10 pixels) shows the mechanism; the default (500) is deliberately
    conservative: the soft-L1 loss treats a large brightness error as outliers at first.
    """
    import dataclasses

    from spacead.scene import StationModel

    gold = next(p.material for p in model.parts if p.material.name == "gold_mli")
    true_gold = dataclasses.replace(gold, base_color=tuple(0.6 * c for c in gold.base_color))
    parts = tuple(
        dataclasses.replace(p, material=true_gold) if p.material is gold else p for p in model.parts
    )
    frame, mask = make_frame(StationModel(parts), camera(), scales=(0.9, 1.2, 0.0, 1.0))
    fit = fit_photometric(frame, render, material_prior=10.0)
    gains = dict(zip(fit.material_names, fit.material_gains, strict=True))
    np.testing.assert_allclose(gains["gold_mli"], 0.6, rtol=0.15)  # the gold glints saturate
    default = fit_photometric(frame, render)  # conservative, but in the right direction
    gold_gain = default.material_gains[default.material_names.index("gold_mli")]
    assert 0.6 < gold_gain[0] < 0.99
    assert np.all(np.abs(gains["white_paint"] - 1.0) < 0.05)  # the others keep their colours
    node = (mask == 1) & (render.material == fit.material_names.index("gold_mli"))
    clean, _ = make_frame(StationModel(parts), camera(), scales=(0.9, 1.2, 0.0, 1.0), noise=0.0)
    with_gains = np.abs(fit.apply(render)[node].astype(int) - clean[node]).mean()
    without = fit_photometric(frame, render, material_prior=None)
    assert without.material_gains is None
    plain = np.abs(without.apply(render)[node].astype(int) - clean[node]).mean()
    assert with_gains < 0.5 * plain
    summary = fit.to_dict()["material_gains"]
    assert set(summary) == set(fit.material_names) and len(summary["gold_mli"]) == 3
