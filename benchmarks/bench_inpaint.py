"""Speed of the image-completion detector, and the synthetic-frame acceptance run.

    python benchmarks/bench_inpaint.py speed [--width 32] [--workers 8]
    python benchmarks/bench_inpaint.py accept [--size 4096] [--epochs 12] [--flip] ...

`speed` times training and scanning (tiles/s) of the model on this machine and
projects the time of a full 25,516 × 45,788 HiRISE frame at stride 256 and 16 for one
machine and N Dask workers (projection = tiles / (rate × N), ignoring transfer costs).
`accept` makes a synthetic frame with planted objects, trains on the frame itself (as
the article does), scans it and prints the recall of planted objects (found = a flagged
tile overlaps the object) and the number of false tiles (flagged, overlapping none).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from spacead.models.inpaint import (
    CompletionNet,
    InpaintConfig,
    center_mask,
    corrupt,
    load_checkpoint,
    weighted_l1,
)
from spacead.simulate import make_planetary_frame
from spacead.survey import scan_image, train_inpainter
from spacead.tiles import TileGrid, iter_tile_batches, nodata_fraction, write_tiff

HIRISE = (25_516, 45_788)


def speed(args: argparse.Namespace) -> None:
    torch.manual_seed(0)
    s = args.input_size
    cfg = InpaintConfig.scaled(args.width, s)
    net = CompletionNet(cfg)
    x = torch.rand(args.batch, s, s)
    mask = center_mask(s, cfg.mask_size)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    net.complete(x)  # warm-up
    # Median over separately timed batches (one optimiser step / one forward pass each),
    # through complete(): masking and standardisation included, as training and scanning run.
    train_times = []
    for _ in range(args.steps):
        t = time.perf_counter()
        opt.zero_grad()
        _, out, target = net.complete(x)
        loss = weighted_l1(out, target, mask, cfg.center_weight)
        loss.backward()
        opt.step()
        train_times.append(time.perf_counter() - t)
    train_rate = args.batch / float(np.median(train_times))
    net.eval()
    scan_times = []
    with torch.no_grad():
        for _ in range(args.steps):
            t = time.perf_counter()
            net.complete(x)
            scan_times.append(time.perf_counter() - t)
    scan_rate = args.batch / float(np.median(scan_times))
    print(
        f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}, threads {torch.get_num_threads()}, load avg {os.getloadavg()[0]:.1f}"
    )
    print(
        f"model: width {args.width}, input {s}, {sum(p.numel() for p in net.parameters()):,} parameters"
    )
    print(f"training: {train_rate:.2f} tiles/s   scanning (model only): {scan_rate:.2f} tiles/s")
    for stride in (256, 16):
        n = len(TileGrid(*HIRISE, size=256, stride=stride))
        line = f"full {HIRISE[0]}×{HIRISE[1]} frame, stride {stride:3d}: {n:>10,} tiles (no margin skipped)"
        for workers in (1, args.workers):
            hours = n / (scan_rate * workers) / 3600
            line += f" | {workers} worker(s): {hours:,.2f} h"
        print(line)


def accept(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    image, objects = make_planetary_frame(
        args.size, args.size, rng=args.seed, n_objects=args.objects
    )
    print(
        f"frame {args.size}×{args.size}, {len(objects)} objects, generated in {time.perf_counter() - t0:.1f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        frame = write_tiff(Path(tmp) / "frame.tif", image)
        t = time.perf_counter()
        reuse = args.model is not None and Path(args.model).is_file()
        ckpt = (
            Path(args.model)
            if reuse
            else train_inpainter(
                [frame],
                out=Path(args.model) if args.model else Path(tmp) / "model.pt",
                epochs=args.epochs,
                batch_size=args.batch,
                lr=args.lr,
                flip=args.flip,
                width=args.width,
                tile=args.tile,
                stride=args.train_stride,
                input_size=args.input_size,
                max_tiles=args.max_tiles,
                seed=args.seed,
                progress=True,
                device=args.device,
            )
        )
        print(f"training: {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        res = scan_image(
            frame,
            model=ckpt,
            out_dir=args.out,
            stride=args.tile,
            fine_stride=args.fine_stride,
            fine_scope=args.scope,
            k=args.k,
            progress=True,
            normalize=args.normalize,
            score=args.score,
            device=args.device,
        )
        print(
            f"scan: {time.perf_counter() - t:.0f} s, {len(res.coords)} tiles, {res.tiles_per_second:.1f} tiles/s"
        )
        reconstruction_check(ckpt, image, res)
    flagged = res.coords[res.flagged]
    size = res.tile

    def hit(o, y, x):
        return o.overlaps(int(y), int(x), size)

    found = {i for i, o in enumerate(objects) if any(hit(o, y, x) for y, x in flagged)}
    false = sum(not any(hit(o, y, x) for o in objects) for y, x in flagged)
    for i, o in enumerate(objects):
        print(
            f"  {o.kind:12s} box y {o.y0}-{o.y1} x {o.x0}-{o.x1}: {'found' if i in found else 'missed'}"
        )
    print(
        f"recall {len(found)}/{len(objects)} = {len(found) / len(objects):.2f}; flagged tiles {len(flagged)}, false tiles {false} of {len(res.coords)} scored"
    )
    by_kind = {
        k: [i in found for i, o in enumerate(objects) if o.kind == k]
        for k in sorted({o.kind for o in objects})
    }
    print("by kind: " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in by_kind.items()))
    # Operating curve from the same scores: objects found and false tiles at other
    # thresholds; "places" groups false tiles that touch on the fine grid.
    on_object = np.array([any(hit(o, y, x) for o in objects) for y, x in res.coords])
    margin = nodata_fraction(image, res.coords, size, nodata=0) > 0
    print("k    found  false tiles  false places  at margin")
    for k in (3.0, 4.0, 5.0, 6.0):
        flag = res.z > k
        n_found = sum(any(hit(o, y, x) for y, x in res.coords[flag]) for o in objects)
        bad = flag & ~on_object
        cells = np.zeros((args.size // res.stride + 2,) * 2, dtype=bool)
        cells[res.coords[bad, 0] // res.stride, res.coords[bad, 1] // res.stride] = True
        places = ndimage.label(cells, structure=np.ones((3, 3)))[1]
        print(
            f"{k:<4} {n_found:2d}/{len(objects)}  {int(bad.sum()):11d}  {places:12d}  {int((bad & margin).sum()):9d}"
        )
    # Places: flagged tiles grouped as scan's detections.csv does, ranked by z.
    places = res.places
    covers = [{i for i, o in enumerate(objects) if _box_hits(o, d)} for d in places]
    n_false = sum(not c for c in covers)
    line = f"places {len(places)}, false places {n_false}; objects in the top N places:"
    seen: set[int] = set()
    for rank, c in enumerate(covers, 1):
        seen |= c
        if rank in (10, 20, 50, 100) or rank == len(covers):
            line += f" top {rank}: {len(seen)}/{len(objects)}"
    print(line)
    print(f"total {time.perf_counter() - t0:.0f} s; outputs in {args.out}")


def _box_hits(o, d) -> bool:
    return d.y0 < o.y1 and d.y1 > o.y0 and d.x0 < o.x1 and d.x1 > o.x0


def reconstruction_check(ckpt, image, res, n: int = 2000) -> None:
    """Centre error of the network against mean fill and OpenCV inpainting (same tiles)."""
    import cv2

    net, _ = load_checkpoint(ckpt)
    cfg = net.config
    rng = np.random.default_rng(0)
    pick = res.coords[rng.choice(len(res.coords), min(n, len(res.coords)), replace=False)]
    tiles = np.concatenate(
        [
            t
            for _, t in iter_tile_batches(
                image, pick, size=res.tile, out_size=cfg.input_size, nodata=0
            )
        ]
    )
    s, m, c = cfg.input_size, cfg.mask_size, cfg.score_size
    lo, mlo = (s - c) // 2, (s - m) // 2
    x = torch.from_numpy(tiles)
    with torch.no_grad():
        net_out = net.complete(x)[0].numpy()
    filled = corrupt(x, center_mask(s, m))[:, 0].numpy()
    mask8 = np.zeros((s, s), np.uint8)
    mask8[mlo : mlo + m, mlo : mlo + m] = 1
    ns = (
        np.stack(
            [
                cv2.inpaint(np.clip(t * 255, 0, 255).astype(np.uint8), mask8, 5, cv2.INPAINT_NS)
                for t in tiles
            ]
        ).astype(np.float32)
        / 255
    )

    def centre_mae(out):
        return float(np.abs(out - tiles)[:, lo : lo + c, lo : lo + c].mean())

    print(
        f"centre error over {len(tiles)} tiles: network {centre_mae(net_out):.4f}, mean fill "
        f"{centre_mae(filled):.4f}, OpenCV Navier-Stokes {centre_mae(ns):.4f}"
    )


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--width", type=int, default=32)
    s.add_argument("--input-size", type=int, default=128)
    s.add_argument("--batch", type=int, default=16)
    s.add_argument("--steps", type=int, default=7, help="timed batches (median)")
    s.add_argument("--workers", type=int, default=8)
    a = sub.add_parser("accept")
    a.add_argument("--size", type=int, default=4096)
    a.add_argument("--objects", type=int, default=16)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--width", type=int, default=8)
    a.add_argument("--input-size", type=int, default=64)
    a.add_argument("--tile", type=int, default=128)
    a.add_argument("--train-stride", type=int, default=32)
    a.add_argument("--epochs", type=int, default=12)
    a.add_argument("--batch", type=int, default=32)
    a.add_argument("--lr", type=float, default=2e-3)
    # One frame has one Sun: flips would teach crater shading lit from the wrong side.
    a.add_argument("--flip", action=argparse.BooleanOptionalAction, default=False)
    a.add_argument("--fine-stride", type=int, default=24)
    a.add_argument("--scope", choices=["hits", "frame"], default="frame")
    a.add_argument("--k", type=float, default=3.0)
    a.add_argument("--normalize", choices=["local", "frame"], default="local")
    a.add_argument("--score", choices=["mae", "peak"], default="mae")
    a.add_argument("--max-tiles", type=int, default=8000)
    a.add_argument("--device", default=None, help="cpu (default), cuda or cuda:N")
    a.add_argument(
        "--model", default=None, help="checkpoint to reuse (trained and saved here if missing)"
    )
    a.add_argument("--out", default="inpaint-accept")
    args = p.parse_args()
    np.seterr(all="ignore")
    speed(args) if args.mode == "speed" else accept(args)


if __name__ == "__main__":
    main()
