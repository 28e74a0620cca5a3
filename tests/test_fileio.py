from __future__ import annotations

import csv

import pytest

from spacead._fileio import atomic_write_bytes, write_csv


def test_write_csv_round_trips_and_is_world_readable(tmp_path):
    path = write_csv(tmp_path / "sub" / "t.csv", ["a", "b"], [[1, "x,y"], [2, ""]])
    assert path.read_bytes() == b'a,b\n1,"x,y"\n2,\n'
    with path.open() as fh:
        assert list(csv.reader(fh)) == [["a", "b"], ["1", "x,y"], ["2", ""]]
    assert path.stat().st_mode & 0o777 == 0o644
    assert not list(tmp_path.rglob("*.tmp"))


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    path = atomic_write_bytes(tmp_path / "t.csv", b"old\n")

    def rows():
        yield [1]
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        write_csv(path, ["a"], rows())
    assert path.read_bytes() == b"old\n"

    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old\n"
    assert not list(tmp_path.glob(".*.tmp"))
