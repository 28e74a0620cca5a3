"""`spacead evaluate` with no usable image is an error that says the way out."""

import shutil

from spacead.cli import main
from spacead.simulate import write_toy_dataset


def test_no_reference_anywhere_is_an_error_that_says_how_to_get_them(tmp_path, capsys):
    root = write_toy_dataset(tmp_path / "ds", train=1, test=3, height=32, width=48)
    for folder in root.glob("test/*/references"):
        shutil.rmtree(folder)
    code = main(
        ["evaluate", str(root), "--method", "mrad", "--out", str(tmp_path / "out"), "--quiet"]
    )
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1
    assert err == (
        f"error: no image of {root / 'test'} could be evaluated: 3 have no reference (mrad "
        f"compares each image with one); give the frames' poses and a 'cad' model in "
        f"{root / 'transforms.json'} and add --references render, or make the files with "
        "'spacead render'"
    )


def test_a_method_without_references_still_evaluates(tmp_path, capsys):
    root = write_toy_dataset(tmp_path / "ds", train=1, test=3, height=32, width=48)
    for folder in root.glob("test/*/references"):
        shutil.rmtree(folder)
    assert (
        main(["evaluate", str(root), "--method", "rxd", "--out", str(tmp_path / "out"), "--quiet"])
        == 0
    )
