import json

import pytest

from spacead.detect import MRADParams, PADParams, RXDParams, params_class


def test_defaults_are_the_measured_setting_and_the_papers_is_reachable():
    # Defaults chosen on validation data (benchmarks/tune_mrad.py, README "Choosing the defaults").
    p = MRADParams()
    assert (p.grid, p.tolerance, p.noise_kernel, p.noise_sd, p.full_cell_fraction) == (
        8,
        50.0,
        0.2,
        5.0,
        0.9,
    )
    assert (p.scale, p.scale_max, p.blur_sigma, p.cov_floor) == ("fixed", 200.0, 4.0, 16.0)
    paper = MRADParams.paper()
    assert (paper.grid, paper.tolerance, paper.noise_kernel, paper.noise_sd, paper.scale) == (
        4,
        50.0,
        0.2,
        5.0,
        "minmax",
    )


@pytest.mark.parametrize(
    "change",
    [{"grid": g} for g in (1, 2, 3, 4, 6, 8)]
    + [{"tolerance": 50 * f} for f in (0.25, 0.5, 1.5, 2.0)]
    + [{"noise_kernel": k} for k in (0.05, 0.1, 0.2, 0.3)]
    + [{"noise_sd": s} for s in (2, 5, 10)],
)
def test_every_table_iii_value_is_reachable(change):
    p = MRADParams(**change)
    ((name, value),) = change.items()
    assert getattr(p, name) == value


@pytest.mark.parametrize("cls", [MRADParams, PADParams, RXDParams])
def test_json_round_trip(cls):
    p = cls()
    assert cls.from_dict(json.loads(p.to_json())) == p


def test_from_strings_converts_types():
    p = MRADParams.from_strings(["grid=8", "tolerance=25", "scale=minmax", "match_gain=false"])
    assert p.grid == 8 and p.tolerance == 25.0 and p.scale == "minmax" and p.match_gain is False
    assert isinstance(p.grid, int) and isinstance(p.tolerance, float)


@pytest.mark.parametrize(
    ("pairs", "match"),
    [
        (["gird=8"], r"unknown mrad parameter\(s\) gird; valid names: grid, scale"),
        (["grid"], "parameter must look like NAME=VALUE, got 'grid'"),
        (["grid=four"], "grid must be an integer, got 'four'"),
        (["tolerance=x"], "tolerance must be a number, got 'x'"),
        (["match_gain=maybe"], "match_gain must be true or false, got 'maybe'"),
    ],
)
def test_from_strings_errors(pairs, match):
    with pytest.raises(ValueError, match=match):
        MRADParams.from_strings(pairs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"grid": 0}, r"grid must be an integer in \[1, 32\], got 0"),
        ({"footprint": 4}, "footprint must be a positive odd integer, got 4"),
        ({"scale": "log"}, "scale must be 'fixed' or 'minmax', got 'log'"),
        ({"min_score": 300}, r"min_score must be in \[0.0, 255.0\], got 300"),
        ({"noise_sd": -1}, "noise_sd must be >= 0, got -1"),
        ({"cov_floor": 0}, "cov_floor must be > 0, got 0"),
        ({"full_cell_fraction": 1.5}, r"full_cell_fraction must be in \[0.0, 1.0\]"),
    ],
)
def test_invalid_values_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MRADParams(**kwargs)


def test_rxd_threshold_is_the_chi2_quantile():
    # chi2.isf(1e-3, 3) = 16.2662 (tables of the chi-square distribution).
    assert RXDParams().score_threshold == pytest.approx(16.2662, abs=1e-4)


def test_params_class_unknown_method():
    with pytest.raises(ValueError, match="unknown method 'lof'; valid methods: mrad, pad, rxd"):
        params_class("lof")
