"""The command line from the commands' dataclasses: spellings kept, fields declared once."""

import argparse
import json

import pytest

from spacead.cli import build_parser, main
from spacead.cli._options import Changes, build, options, settings
from spacead.cli.bench import Bench
from spacead.cli.generate import Generate
from spacead.simulate import GenerateConfig

# Every command's spellings as spacead 0.1's hand-written argparse CLI had them (printed
# from its parser): NAME is a positional (? optional, + one or more), ! takes no value.
SPELLINGS = {
    "detect": "QUERY REFERENCE? --method --param --threads --out --camera --cad --bit-depth --value-range --render-param",
    "generate": "OUT --train --test --anomalous-fraction --width --height --seed --renderer --reference-renderer --samples --reference-position-sigma --reference-rotation-sigma --reference-light-jitter --exposure-jitter/--query-exposure-jitter --modes --reference-noise/--no-reference-noise! --palette-masks! --threads --workers --scheduler --quiet!",
    "render": "ROOT --out --cad-outside! --render-param --threads --workers --scheduler --quiet!",
    "check": "ROOT",
    "evaluate": "ROOT --method --split --param --out --save-maps! --strict! --references --cad-outside! --render-param --threads --workers --scheduler --quiet!",
    "export-anomalib": "ROOT OUT --no-references! --strict!",
    "import-allo": "RAW OUT --min-pixels --normal-split --anomaly-split --palette-masks! --threads --workers --scheduler --quiet!",
    "ablate": "ROOT --out --split --param --sweeps --threads --workers --scheduler --quiet!",
    "report": "DIRS+ --out",
    "bench": "OUT? --train --test --anomalous-fraction --width --height --seed --learned --threads --workers --scheduler --quiet!",
    "inpaint synth": "OUT --size --objects --seed",
    "inpaint train": "IMAGES+ --out --preset --epochs --batch-size --lr --width --tile --stride --input-size --max-tiles --seed --device --flip/--no-flip! --threads --quiet!",
    # added after 0.1 (ROS 2 recordings):
    "detect-bag": "BAG --cad --image-topic --out --camera-info-topic --world-frame --sun --sun-topic --sky --orbit --inertial-frame --every --tf-tolerance --method --param --render-param --compressed-out! --overwrite! --threads --quiet!",
    "serve": "SOURCE --cad --viewer --host --port --speed --rate --loop! --wait/--no-wait! --cad-outside! --image-topic --camera-info-topic --world-frame --sun --sun-topic --sky --orbit --inertial-frame --every --tf-tolerance --method --param --render-param --compressed-out! --threads --quiet!",
    "export-bag": "ROOT OUT --image-topic --world-frame --images --storage --rate --overwrite!",
    "bag-info": "BAG",
    "inpaint scan": "IMAGE --model --out --stride --fine-stride --k --normalize --fine-scope --score --workers --scheduler --device --threads --quiet!",
}


def _spelling(parser: argparse.ArgumentParser) -> set[str]:
    words = set()
    for a in parser._actions:
        if not a.option_strings:
            words.add(a.dest.upper() + {None: "", "?": "?", "+": "+"}[a.nargs])
        elif "-h" not in a.option_strings and a.dest not in (
            "verbose",
            "debug",
            "config",
            "print_config",
        ):
            words.add("/".join(a.option_strings) + ("!" if a.nargs == 0 else ""))
    return words


def test_every_command_keeps_the_spelling_it_had():
    parser = build_parser()
    assert set(parser.commands) - {"inpaint"} == set(SPELLINGS)
    for name, expected in SPELLINGS.items():
        assert _spelling(parser.commands[name]) == set(expected.split()), name


def test_a_configuration_is_declared_once_in_the_library():
    by_key = {o.key: o for o in options(Generate)}
    defaults = GenerateConfig()
    for field in GenerateConfig.__dataclass_fields__:
        assert by_key[field].default == getattr(defaults, field), field
    assert {o.key: o.default for o in options(Bench)}["train"] == 0  # bench's own default


def test_build_and_settings_are_inverse():
    values = {o.key: o.default for o in options(Generate)} | {
        "out": "o",
        "modes": ("depth", "scale"),
        "train": 2,
    }
    command = build(Generate, values)
    assert command.config == GenerateConfig(train=2, modes=("depth", "scale"))
    shown = settings(command)
    assert shown["modes"] == "depth,scale" and shown["train"] == 2 and shown["out"] == "o"


def test_a_preset_keeps_the_fields_that_were_not_given(tmp_path, capsys):
    pytest.importorskip("torch")
    from spacead.cli.inpaint import Train, import_configs

    import_configs()
    argv = ["inpaint", "train", "a.tif", "--out", str(tmp_path / "m.pt"), "--epochs", "3"]
    assert main([*argv, "--print-config"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["epochs"] == 3 and shown["lr"] is None and shown["stride"] is None
    values = {o.key: o.default for o in options(Train)} | {"images": [], "out": "m", "epochs": 3}
    assert build(Train, values).changes == Changes({"epochs": 3})


def test_help_comes_from_the_docstrings(capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Probability that a test image holds a hazard. (default: 0.5)" in text
    assert "--exposure-jitter J, --query-exposure-jitter J" in text


def test_a_config_value_of_the_wrong_type_is_one_line(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("workers: many\n")
    assert main(["evaluate", "ROOT", "--out", str(tmp_path), "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        err == f"spacead: error: config {str(path)!r}: workers must be a whole number, got 'many'\n"
    )
    path.write_text("root: [a, b]\n")  # was "unrecognized arguments"
    assert main(["render", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == f"spacead: error: config {str(path)!r}: root takes one value, got ['a', 'b']\n"
