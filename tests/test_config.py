"""--config FILE and --print-config: a run repeats from one file."""

import json

import pytest

from spacead.cli import main
from spacead.simulate import write_toy_dataset


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy_dataset(tmp_path_factory.mktemp("cfg") / "ds", train=1, test=6, rng=4)


def _run(capsys, argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _metrics(folder):
    m = json.loads((folder / "metrics.json").read_text())
    return {k: m[k] for k in ("image_auroc", "pixel_ap", "pixel_aupro", "params", "n_images")}


def test_print_config_then_config_repeats_the_run(toy, tmp_path, capsys):
    argv = ["evaluate", toy, "--method", "mrad", "--out", tmp_path / "a", "--param", "grid=6",
            "--workers", "1", "--quiet"]  # fmt: skip
    code, printed, _ = _run(capsys, [*argv, "--print-config"])
    assert code == 0 and not (tmp_path / "a").exists()  # printing runs nothing
    settings = json.loads(printed)
    assert settings["param"] == ["grid=6"] and settings["root"] == str(toy)
    (tmp_path / "run.json").write_text(printed)
    assert _run(capsys, argv)[0] == 0
    assert _run(capsys, ["evaluate", "--config", tmp_path / "run.json"])[0] == 0
    assert _metrics(tmp_path / "a")["params"]["grid"] == 6
    # metrics.json keeps the settings, and can be passed back (the command line wins)
    code, _, _ = _run(
        capsys, ["evaluate", "--config", tmp_path / "a" / "metrics.json", "--out", tmp_path / "b"]
    )
    assert code == 0 and _metrics(tmp_path / "b") == _metrics(tmp_path / "a")


def test_yaml_with_a_param_mapping_and_the_command_line_winning(toy, tmp_path, capsys):
    (tmp_path / "run.yaml").write_text(
        f"root: {toy}\nmethod: mrad\nout: {tmp_path / 'y'}\nworkers: 1\nquiet: true\n"
        "param:\n  grid: 4\n  tolerance: 25\n"
    )
    code, printed, _ = _run(
        capsys, ["evaluate", "--config", tmp_path / "run.yaml", "--method", "pad", "--print-config"]
    )
    settings = json.loads(printed)
    assert code == 0 and settings["method"] == "pad" and settings["workers"] == 1
    assert settings["param"] == ["grid=4", "tolerance=25"] and settings["quiet"] is True


def test_command_line_params_add_to_the_files_and_win_by_name(toy, tmp_path, capsys):
    (tmp_path / "run.yaml").write_text(
        f"root: {toy}\nmethod: mrad\nout: {tmp_path / 'p'}\nworkers: 1\nquiet: true\n"
        "param:\n  grid: 4\n  tolerance: 25\n"
    )
    argv = ["evaluate", "--config", tmp_path / "run.yaml", "--param", "grid=6"]
    code, printed, _ = _run(capsys, [*argv, "--print-config"])
    assert code == 0 and json.loads(printed)["param"] == ["tolerance=25", "grid=6"]
    assert _run(capsys, argv)[0] == 0
    params = _metrics(tmp_path / "p")["params"]
    assert (params["grid"], params["tolerance"]) == (6, 25.0)


def test_generate_json_is_a_config_for_generate(tmp_path, capsys):
    out = tmp_path / "g"
    argv = ["generate", out, "--train", "0", "--test", "2", "--width", "48", "--height", "27",
            "--reference-noise", "--workers", "1", "--quiet"]  # fmt: skip
    assert _run(capsys, argv)[0] == 0
    code, printed, _ = _run(
        capsys, ["generate", out, "--config", out / "generate.json", "--print-config"]
    )
    settings = json.loads(printed)
    assert code == 0 and settings["reference_noise"] is True and settings["test"] == 2
    # resuming with the recorded settings is accepted (a different setting would be refused)
    assert _run(capsys, ["generate", out, "--config", out / "generate.json", "--quiet"])[0] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("method: mrad\ngird: 8\n", "unknown key(s) gird for spacead evaluate; valid keys: "),
        ("- just\n- a list\n", "must hold a mapping of settings, got ['just', 'a list']"),
        ("method: [unclosed\n", "is not YAML or JSON"),
        ("quiet: maybe\n", "quiet must be true or false, got 'maybe'"),
    ],
)
def test_bad_config_files_are_one_line_errors(tmp_path, capsys, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    code, _, err = _run(capsys, ["evaluate", "ROOT", "--out", tmp_path / "o", "--config", path])
    assert code == 1 and message in err and err.count("\n") == 1
    assert err.startswith("spacead: error: ")


def test_missing_config_file_and_missing_argument(tmp_path, capsys):
    code, _, err = _run(capsys, ["evaluate", "ROOT", "--config", tmp_path / "nope.yaml"])
    assert code == 1 and "cannot read config" in err and "nope.yaml" in err
    code, _, err = _run(capsys, ["evaluate", "ROOT", "--config"])
    assert code == 1 and "--config needs a FILE" in err


def test_generate_json_with_modes_round_trips(tmp_path, capsys):
    out = tmp_path / "g"
    argv = ["generate", out, "--train", "0", "--test", "1", "--width", "48", "--height", "27",
            "--modes", "illumination,depth", "--workers", "1", "--quiet"]  # fmt: skip
    assert _run(capsys, argv)[0] == 0
    code, printed, _ = _run(
        capsys, ["generate", out, "--config", out / "generate.json", "--print-config"]
    )
    settings = json.loads(printed)
    assert code == 0 and settings["modes"] == "illumination,depth" and settings["out"] == str(out)


def test_abbreviated_config_flags_are_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("quiet: true\n")
    for flag in ("--conf", "--print-conf"):
        with pytest.raises(SystemExit) as info:
            main(["evaluate", str(tmp_path), "--out", str(tmp_path / "o"), flag, str(path)])
        assert info.value.code == 2  # argparse: unrecognized argument, nothing ran
    assert not (tmp_path / "o").exists()
