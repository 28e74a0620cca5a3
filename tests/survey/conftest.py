from __future__ import annotations

import pytest

from spacead.simulate import make_planetary_frame
from spacead.survey import scan_image, train_inpainter
from spacead.tiles import write_tiff


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scan")
    image, objects = make_planetary_frame(512, 512, rng=5, n_objects=1, margins=False)
    frame = write_tiff(tmp / "frame.tif", image)
    ckpt = train_inpainter(
        [frame],
        out=tmp / "m.pt",
        epochs=2,
        batch_size=16,
        lr=3e-3,
        width=2,
        tile=64,
        stride=32,
        input_size=64,
        seed=0,
        threads=1,
        progress=False,
    )
    result = scan_image(
        frame,
        model=ckpt,
        out_dir=tmp / "out",
        stride=64,
        fine_stride=16,
        fine_scope="frame",
        progress=False,
    )
    return result, objects[0], tmp
