from __future__ import annotations

import numpy as np
import pytest
import torch

from spacead.models.inpaint import (
    CompletionNet,
    InpaintConfig,
    load_checkpoint,
    save_checkpoint,
    score_tiles,
    train_on_tiles,
)
from spacead.survey import train_inpainter
from tests.helpers import terrain_tiles

SMALL = InpaintConfig(width=2, input_size=64, mask_size=16, score_size=12)


def test_training_decreases_loss_and_is_deterministic():
    tiles = terrain_tiles()
    _, losses = train_on_tiles(tiles, SMALL, epochs=4, batch_size=8, lr=3e-3, seed=1, threads=1)
    assert losses[-1] < losses[0]
    _, again = train_on_tiles(tiles, SMALL, epochs=4, batch_size=8, lr=3e-3, seed=1, threads=1)
    assert again == losses


def test_train_errors():
    with pytest.raises(ValueError, match=r"tiles must have shape \(N>0, 64, 64\)"):
        train_on_tiles(np.zeros((3, 32, 32), np.float32), SMALL)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        train_on_tiles(terrain_tiles(2), SMALL, epochs=0)
    with pytest.raises(ValueError, match="at least one image"):
        train_inpainter([], out="x.pt")


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    net = CompletionNet(SMALL)
    # a folder that does not exist yet is made: hours of training are not lost at the end
    path = save_checkpoint(tmp_path / "new" / "m.pt", net, {"tile": 64, "losses": [0.5, 0.25]})
    assert path == tmp_path / "new" / "m.pt" and path.stat().st_mode & 0o777 == 0o644
    payload = torch.load(path, weights_only=True)
    assert payload["config"] == SMALL.to_dict()
    loaded, meta = load_checkpoint(path)
    assert meta == {"tile": 64, "losses": [0.5, 0.25]}
    tiles = terrain_tiles(4)
    np.testing.assert_array_equal(score_tiles(loaded, tiles), score_tiles(net.eval(), tiles))
    assert not list(path.parent.glob(".*tmp"))


def test_checkpoint_errors(tmp_path):
    with pytest.raises(ValueError, match=r"cannot load model .*nope\.pt.*no such file"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a PyTorch checkpoint") as info:
        load_checkpoint(tmp_path / "bad.pt")
    assert "\n" not in str(info.value) and "unsafe" not in str(info.value)  # only random bytes
    # a real checkpoint whose tile metadata is wrong names the checkpoint and the field
    net = CompletionNet(SMALL)
    for tile in (None, "64", 3):
        meta = {} if tile is None else {"tile": tile}
        save_checkpoint(tmp_path / "meta.pt", net, meta)
        with pytest.raises(ValueError, match=r"meta\.pt': its metadata 'tile' must be a whole"):
            load_checkpoint(tmp_path / "meta.pt")


class _Payload:  # an arbitrary object a hostile checkpoint might carry
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_pickle_of_arbitrary_objects_is_refused_in_one_line(tmp_path, capsys):
    import pickle

    torch.save({"config": {}, "state_dict": {}, "meta": _Payload()}, tmp_path / "evil.pt")
    (tmp_path / "raw.pt").write_bytes(pickle.dumps(_Payload()))
    for name in ("evil.pt", "raw.pt"):
        with pytest.raises(
            ValueError,
            match=r"not a spacead inpaint checkpoint; refused its unsafe content \(pickled "
            r"objects other than tensors; nothing was run\)$",
        ) as info:
            load_checkpoint(tmp_path / name)
        assert "\n" not in str(info.value)
    assert "must never run" not in capsys.readouterr().out


def test_old_checkpoints_load_without_the_new_options(tmp_path):
    plain = InpaintConfig(width=2, input_size=64, mask_size=16, score_size=12, residual=False,
                          standardize=False)  # fmt: skip
    net = CompletionNet(plain)
    path = save_checkpoint(tmp_path / "old.pt", net, {"tile": 64})
    payload = torch.load(path, weights_only=True)
    for key in ("residual", "standardize"):
        del payload["config"][key]  # as written before the options existed
    torch.save(payload, path)
    loaded, _ = load_checkpoint(path)
    assert loaded.config == plain


def test_resolve_device():
    from spacead.models.inpaint import resolve_device

    assert resolve_device(None) == torch.device("cpu") == resolve_device("cpu")
    for bad in ("gpu", "meta"):
        with pytest.raises(
            ValueError, match=f"device must be 'cpu', 'cuda' or 'cuda:N', got '{bad}'"
        ):
            resolve_device(bad)
    with pytest.raises(
        ValueError, match=r"device 'cuda:99' is not available: torch .* sees \d+ CUDA"
    ):
        resolve_device("cuda:99")


def test_flip_augmentation_can_be_turned_off(monkeypatch):
    """With flip=False the network sees only the tiles as given (one frame, one Sun)."""
    seen = []
    complete = CompletionNet.complete

    def spy(self, tiles):
        seen.append(tiles.detach().clone())
        return complete(self, tiles)

    monkeypatch.setattr(CompletionNet, "complete", spy)
    tiles = terrain_tiles(8)
    given = {t.tobytes() for t in tiles}
    for flip in (False, True):
        seen.clear()
        train_on_tiles(tiles, SMALL, epochs=3, batch_size=4, seed=0, threads=1, flip=flip)
        fed = [t.numpy().tobytes() for batch in seen for t in batch]
        assert len(fed) == 3 * len(tiles)
        assert all(t in given for t in fed) is (not flip)


def test_training_on_an_explicit_cpu_device_matches_the_default():
    tiles = terrain_tiles(8)
    _, default = train_on_tiles(tiles, SMALL, epochs=1, batch_size=4, seed=2, threads=1)
    net, on_cpu = train_on_tiles(
        tiles, SMALL, epochs=1, batch_size=4, seed=2, threads=1, device="cpu"
    )
    assert on_cpu == default
    assert next(net.parameters()).device == torch.device("cpu")


def test_training_says_up_front_how_long_it_will_take(monkeypatch, capsys):
    import spacead.models.inpaint._train as train

    monkeypatch.setattr(train, "ESTIMATE_AFTER_S", 0.0)  # say it after the second step
    tiles = terrain_tiles()
    train_on_tiles(tiles, SMALL, epochs=3, batch_size=8, seed=1, threads=1, progress=True)
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("training: about")]
    assert len(lines) == 1, lines  # once, not per step
    assert f"(3 epochs of {len(tiles)} tiles at " in lines[0]
    assert "fewer --epochs, fewer --max-tiles or a larger --stride train faster" in lines[0]
    train_on_tiles(tiles, SMALL, epochs=1, batch_size=8, seed=1, threads=1)
    assert "training: about" not in capsys.readouterr().err  # no bar, no estimate
