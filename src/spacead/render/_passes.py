"""A render in three passes over the tracing core, each cut into tiles on a thread pool.

1. **primary**: one ray through every pixel centre gives the exact mask, depth
   and material; its surface is shaded by the direct lights (hard shadows).
   At every ``stride``-th pixel (the bounce grid, :mod:`~spacead.render._bounce`)
   glossy and diffuse rays also leave that surface; the surfaces they reach
   are shaded by the Sun (with shadow rays), the spotlight (with shadow rays
   towards the camera) and their emission; the Moon and the Earth by the Sun;
2. **bounce light**: every station pixel's glossy and diffuse light,
   reconstructed from the grid along its surface;
3. **edges** (:mod:`~spacead.render._edges`): pixels at silhouettes, material
   boundaries, creases and shadow boundaries are shaded again from sub-pixel
   samples spread by the pixel filter, each towards a point of the Sun's disc.

With every light path off (:meth:`LightPaths.preset` ``"direct"``) only pass
1 runs, without its grid: the one-bounce ray cast spacead had before.
Every pixel's samples are a pure function of its index, so the output does
not depend on the tiles or the threads.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from spacead.scene import FOREGROUND

from .._threads import map_tiles, tile_threads
from ._bounce import MIN_ALBEDO, BounceGrid, mean_over_samples, reconstruct
from ._core import Frame, Tracer
from ._edges import ICDF, disc_frame, edge_pixels, edge_samples, penumbra_radius
from ._lights import COMPONENTS, DIRECT, LightComponents
from ._pbr import albedos, sample_diffuse, sample_glossy, shade_direct, shade_lit
from ._surface import S_GEO

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Index = npt.NDArray[np.intp]

_TILE = 32768  # rays per tile; the output does not depend on it
_MIN_TILE = 8192  # fewer rays per tile cost more in Python overhead than they balance
_GRID_LINES = 540  # image height up to which LightPaths.stride is used as it is
_K = len(COMPONENTS)
_GLOSSY, _DIFFUSE = 4, 5
_SALT_GLOSSY, _SALT_DIFFUSE = 1, 2
_CLAMP = 1.0  # largest contribution of one bounce sample (a white surface facing the Sun: 1)
_BOUNCE_SPREAD = 0.05  # radians a bounce ray stands for: its hits read blurred textures


class _Image:
    """The outputs of a render, flat over pixels, and the guides later passes read.

    ``geo`` (geometric normal) serves the edge pass and the bounce light;
    ``sun_state`` the edge pass; ``point`` and ``albedo`` the bounce light.
    """

    def __init__(self, h: int, w: int, guides: bool, bounce: bool) -> None:
        n = h * w
        self.radiance = np.zeros((n, _K, 3), np.float32)  # calloc: space pages stay untouched
        self.mask = np.zeros(n, np.uint8)
        self.depth = np.empty(n, np.float32)
        self.material = np.full(n, -1, np.int32)
        self.geo = np.zeros((n, 3), np.float32) if guides or bounce else None
        self.sun_state = np.zeros(n, np.uint8) if guides else None
        self.point = np.zeros((n, 3), np.float32) if bounce else None
        self.albedo = np.zeros((n, 6), np.float32) if bounce else None


def render_frame(tracer: Tracer, frame: Frame, threads: int | None = None) -> LightComponents:
    """Every pass of one render (see the module notes)."""
    h, w = frame.height, frame.width
    threads = threads or tile_threads()
    paths = frame.paths
    grid = None
    if paths.glossy or paths.diffuse:
        # the stride holds at 540 lines; taller images keep the same number of grid rows
        grid = BounceGrid(h, w, max(paths.stride, round(paths.stride * h / _GRID_LINES)))
    refine = paths.antialias or paths.soft_shadows
    out = _Image(h, w, refine, grid is not None)
    map_tiles(lambda a, b: _primary_tile(tracer, frame, grid, out, a, b), h,
              _tile(h, w, threads), threads)  # fmt: skip
    if grid is not None:
        station = len(tracer.names)  # materials from here on are the Moon's and the Earth's
        map_tiles(lambda a, b: _bounce_light(frame, grid, out, station, a, b), h,
                  _tile(h, w, threads), threads)  # fmt: skip
    if refine:
        _edge_pass(tracer, frame, out, threads)
    names = tracer.names + tuple(f"body:{b.name}" for b in frame.bodies)
    return LightComponents(
        out.radiance.reshape(h, w, _K, 3),
        out.mask.reshape(h, w),
        out.depth.reshape(h, w),
        out.material.reshape(h, w).astype(np.int16),
        names,
    )


def _tile(n: int, rays_per_item: int, threads: int) -> int:
    """Items per tile: ``_MIN_TILE`` to ``_TILE`` rays, 4 tiles a thread where that allows.

    Small tiles balance the threads (the station fills some rows and not others),
    but each costs a few dozen NumPy calls under the GIL: below ``_MIN_TILE`` rays
    that overhead outweighs the balance. The output does not depend on the tiling.
    """
    per_ray = max(1, rays_per_item)
    fit = max(1, _TILE // per_ray)
    least = max(1, -(-_MIN_TILE // per_ray))
    return max(1, min(fit, max(least, -(-n // (4 * threads)))))


def _grid_bounces(
    tracer: Tracer, frame: Frame, grid: BounceGrid, pixels: Index, material: I32, points: F64,
    surf: F32, view: F32, albedo: F32,
) -> None:  # fmt: skip
    """Trace the bounces of the primary hits that lie on the grid (``pixels``, flat indices).

    The grid's own surfaces are the primary pass's: its pixels are pixel centres.
    """
    rows, gy, gx = grid.cells(pixels, frame.width)
    if rows.size == 0:
        return
    surf, view, albedo = surf[rows], view[rows], albedo[rows]
    grid.material[gy, gx] = material[rows]
    grid.point[gy, gx] = points[rows]
    grid.normal[gy, gx] = surf[:, S_GEO : S_GEO + 3]
    keys = pixels[rows].astype(np.int64)
    origins = points[rows] + frame.bias * surf[:, S_GEO : S_GEO + 3].astype(np.float64)
    paths = frame.paths
    if paths.glossy:
        sel = np.flatnonzero(_glossy(albedo, paths.glossy_threshold))
        if sel.size:
            value = _bounce(tracer, frame, surf[sel], view[sel], keys[sel], origins[sel],
                            sample_glossy, _SALT_GLOSSY)  # fmt: skip
            grid.value[gy[sel], gx[sel], 0] = value / np.maximum(albedo[sel, :3], MIN_ALBEDO)
            grid.valid[gy[sel], gx[sel], 0] = True
    if paths.diffuse:  # metals' samples weigh 0: _bounce traces no ray for them
        value = _bounce(tracer, frame, surf, view, keys, origins, sample_diffuse, _SALT_DIFFUSE)
        grid.value[gy, gx, 1] = value / np.maximum(albedo[:, 3:], MIN_ALBEDO)
        grid.valid[gy, gx, 1] = True


def _glossy(albedo: F32, threshold: float) -> npt.NDArray[np.bool_]:
    """Which surfaces (rows of ``albedos``) get glossy light: specular albedo >= threshold."""
    out: npt.NDArray[np.bool_] = _max3(albedo) >= threshold
    return out


def _max3(a: F32) -> F32:
    """Row-wise maximum of the first 3 columns of ``a`` (N, >=3).

    ``a[:, :3].max(axis=1)`` gives the same values, but NumPy reduces a short
    inner axis one row at a time: ~10 times slower, a few ms a 480 × 270 render.
    """
    out: F32 = np.maximum(np.maximum(a[:, 0], a[:, 1]), a[:, 2])
    return out


def _bounce(
    tracer: Tracer,
    frame: Frame,
    surf: F32,
    view: F32,
    keys: npt.NDArray[np.int64],
    origins: F64,
    sampler: object,
    salt: int,
) -> F32:
    """Mean bounce light (M, 3) of surfaces: ``samples`` rays each, drawn by ``sampler``."""
    n = frame.paths.samples if sampler is sample_glossy else frame.paths.diffuse_samples
    dirs = np.zeros((len(surf) * n, 3), np.float32)
    weights = np.zeros((len(surf) * n, 3), np.float32)
    sampler(surf, view, keys, n, salt, dirs, weights)  # type: ignore[operator]
    live = np.flatnonzero(_max3(weights) > 0)
    incoming = np.zeros((len(surf) * n, 3), np.float32)
    if live.size:
        ray_keys = (np.repeat(keys, n) * n + np.tile(np.arange(n), len(keys)))[live]
        incoming[live] = incoming_light(tracer, frame, np.repeat(origins, n, axis=0)[live],
                                        dirs[live], ray_keys, *_chain(frame, sampler))  # fmt: skip
    out = np.empty((len(surf), 3), np.float32)
    mean_over_samples(weights, incoming, n, _CLAMP, out)
    return out


def _chain(frame: Frame, sampler: object) -> tuple[int, int]:
    """Further (glossy, diffuse) reflections after a first bounce drawn by ``sampler``.

    Chains keep one kind: foil reflecting foil, paint lit by paint.
    """
    if sampler is sample_glossy:
        return frame.paths.glossy_depth - 1, 0
    return 0, frame.paths.diffuse_depth - 1


def incoming_light(
    tracer: Tracer, frame: Frame, origins: F64, dirs: F32, keys: I64, glossy: int = 0,
    diffuse: int = 0,
) -> F32:  # fmt: skip
    """Radiance (N, 3) arriving at ``origins`` from ``dirs``: lit surfaces, spheres, or 0.

    The surfaces reached are lit by the Sun and the spotlight; with ``glossy``
    (``diffuse``) more bounces left, they also reflect the light arriving
    there along one GGX (cosine-weighted) sample per ray; ``keys`` (N,) seed
    the samples.
    """
    hits, t_body, body, on_body = tracer.first(frame, origins, dirs)
    out = np.zeros((len(dirs), 3), np.float32)
    rows = np.flatnonzero((hits.mesh >= 0) & ~on_body)
    if rows.size:
        points = origins[rows] + hits.distance[rows, None].astype(np.float64) * dirs[rows]
        surf, _ = tracer.surfaces(hits, rows, dirs[rows], points, _BOUNCE_SPREAD,
                                  multiscatter=frame.paths.multiscatter)  # fmt: skip
        geo = surf[:, S_GEO : S_GEO + 3]
        sun = tracer.sun_light(frame, points, geo)
        to_cam = frame.origin - points
        dist = np.linalg.norm(to_cam, axis=1)
        spot_dir = (to_cam / np.maximum(dist, 1e-9)[:, None]).astype(np.float32)
        spot = tracer.spot_light(frame, -(spot_dir @ frame.axis), dist.astype(np.float32))
        lit = np.flatnonzero(spot > 0)
        if lit.size and frame.shadows:
            start = points[lit] + frame.bias * geo[lit].astype(np.float64)
            blocked = tracer.meshes.occluded_along(
                start, spot_dir[lit], (dist[lit] - 2 * frame.bias).astype(np.float32)
            )
            spot[lit[blocked]] = 0.0
        radiance = np.empty((len(rows), 3), np.float32)
        view = np.negative(dirs[rows])
        shade_lit(surf, view, frame.sun.astype(np.float32), sun, spot_dir, spot, radiance)
        if glossy > 0:
            radiance += _reflected(tracer, frame, surf, view, points, keys[rows], glossy - 1,
                                   diffuse, sample_glossy)  # fmt: skip
        if diffuse > 0:
            radiance += _reflected(tracer, frame, surf, view, points, keys[rows], glossy,
                                   diffuse - 1, sample_diffuse)  # fmt: skip
        out[rows] = radiance
    rows = np.flatnonzero(on_body)
    if rows.size:
        points = origins[rows] + t_body[rows, None] * dirs[rows]
        out[rows] = tracer.body_radiance(frame, body[rows], points)
    return out


def _reflected(
    tracer: Tracer, frame: Frame, surf: F32, view: F32, points: F64, keys: I64, glossy: int,
    diffuse: int, sampler: object,
) -> F32:  # fmt: skip
    """Light (M, 3) that surfaces reflect towards ``view`` along one sample of ``sampler``."""
    out = np.zeros((len(surf), 3), np.float32)
    sel = np.arange(len(surf))
    if sampler is sample_glossy:  # only surfaces with a noticeable specular lobe
        albedo = np.empty((len(surf), 6), np.float32)
        albedos(surf, view, albedo)
        sel = np.flatnonzero(_glossy(albedo, frame.paths.glossy_threshold))
    if sel.size == 0:
        return out
    dirs = np.zeros((sel.size, 3), np.float32)
    weights = np.zeros((sel.size, 3), np.float32)
    salt = 16 * (glossy + 1) + 4 * (diffuse + 1) + (sampler is sample_glossy)
    sampler(surf[sel], view[sel], keys[sel], 1, salt, dirs, weights)  # type: ignore[operator]
    live = np.flatnonzero(_max3(weights) > 0)
    if live.size:
        rows = sel[live]
        origins = points[rows] + frame.bias * surf[rows, S_GEO : S_GEO + 3].astype(np.float64)
        light = incoming_light(tracer, frame, origins, dirs[live], keys[rows], glossy, diffuse)
        out[rows] = weights[live] * light
    return out


def _primary_tile(
    tracer: Tracer, frame: Frame, grid: BounceGrid | None, out: _Image, row_start: int,
    row_stop: int,
) -> None:  # fmt: skip
    """Trace and shade image rows ``row_start:row_stop`` into their slices of the outputs."""
    w = frame.width
    pixels = np.arange(row_start * w, row_stop * w)
    cos_axis, dirs = tracer.world_rays(frame, pixels)
    hits, t_body, body, on_body = tracer.first(frame, None, dirs)
    dist = hits.distance
    dist[on_body] = t_body[on_body]
    px = slice(row_start * w, row_stop * w)
    out.depth[px] = dist
    radiance, mask, material = out.radiance[px], out.mask[px], out.material[px]
    rows = np.flatnonzero((hits.mesh >= 0) & ~on_body)
    if rows.size:
        mask[rows] = tracer.tables.part_label[hits.mesh[rows]]
        material[rows] = tracer.material_of(hits, rows)
        points = frame.origin + dist[rows, None].astype(np.float64) * dirs[rows]
        surf, sub = tracer.surfaces(hits, rows, dirs[rows], points, frame.pixel_angle,
                                    frame.paths.glints,
                                    multiscatter=frame.paths.multiscatter)  # fmt: skip
        geo = surf[:, S_GEO : S_GEO + 3]
        sun = tracer.sun_light(frame, points, geo)
        spot = tracer.spot_light(frame, cos_axis[rows], dist[rows])
        shade_direct(surf, sub, np.negative(dirs[rows]), _rows_of(frame.sun, len(rows)), sun,
                     spot, rows, radiance)  # fmt: skip
        if out.geo is not None:
            out.geo[px][rows] = geo
        if out.sun_state is not None:
            facing = geo @ frame.sun.astype(np.float32) > 0
            out.sun_state[px][rows] = np.where(facing, np.where(sun > 0, 2, 1), 0)
        if grid is not None and out.point is not None and out.albedo is not None:
            view = np.negative(dirs[rows])
            albedo = np.empty((len(rows), 6), np.float32)
            albedos(surf, view, albedo)
            out.point[px][rows] = points
            out.albedo[px][rows] = albedo
            _grid_bounces(tracer, frame, grid, pixels[rows], material[rows], points, surf, view,
                          albedo)  # fmt: skip
    rows = np.flatnonzero(on_body)
    if rows.size:
        mask[rows] = FOREGROUND
        material[rows] = len(tracer.names) + body[rows]
        points = frame.origin + t_body[rows, None] * dirs[rows]
        radiance[rows, :DIRECT] = tracer.shade_bodies(
            frame, body[rows], points, dirs[rows], cos_axis[rows], dist[rows]
        )


def _bounce_light(
    frame: Frame, grid: BounceGrid, out: _Image, station: int, row_start: int, row_stop: int
) -> None:
    """Reconstruct the glossy and diffuse light of the station pixels in rows ``start:stop``.

    ``station``: material indices below it are the station's (above: the Moon, the Earth).
    """
    assert out.geo is not None and out.point is not None and out.albedo is not None
    w = frame.width
    own = out.material[row_start * w : row_stop * w]
    pixels = row_start * w + np.flatnonzero((own >= 0) & (own < station))
    if pixels.size == 0:
        return
    albedo = out.albedo[pixels]
    value = np.empty((len(pixels), 2, 3), np.float32)
    reconstruct(pixels, w, grid.stride, out.material[pixels], out.point[pixels],
                out.geo[pixels], out.depth[pixels], albedo.reshape(-1, 2, 3), grid.value,
                grid.valid, grid.material, grid.point, grid.normal, value)  # fmt: skip
    value[~_glossy(albedo, frame.paths.glossy_threshold), 0] = 0.0
    out.radiance[pixels, _GLOSSY:] = value


def _edge_pass(tracer: Tracer, frame: Frame, out: _Image, threads: int) -> None:
    """Shade edge and penumbra pixels again from sub-pixel samples (module notes, pass 3)."""
    assert out.geo is not None and out.sun_state is not None
    h, w = frame.height, frame.width
    paths = frame.paths
    radius = penumbra_radius(frame.pixel_angle, paths.sun_angle_deg) if paths.soft_shadows else 1
    pixels = edge_pixels(
        out.material.reshape(h, w), out.depth.reshape(h, w), out.geo.reshape(h, w, 3),
        out.sun_state.reshape(h, w), radius,
    )  # fmt: skip
    if not paths.antialias:  # penumbrae only: drop pure geometry edges far from shadows
        pixels = pixels[out.sun_state[pixels] > 0]
    if pixels.size == 0:
        return
    n = paths.edge_samples if paths.antialias else max(paths.edge_samples, 8)
    result = np.zeros((len(pixels), _K, 3), np.float32)
    per_tile = _tile(len(pixels), n, threads)
    map_tiles(lambda a, b: _edge_tile(tracer, frame, out, pixels, n, result, a, b),
              len(pixels), per_tile, threads)  # fmt: skip
    out.radiance[pixels] = result


def _edge_tile(
    tracer: Tracer, frame: Frame, out: _Image, pixels: Index, n: int, result: F32,
    start: int, stop: int,
) -> None:  # fmt: skip
    """Sub-pixel samples of edge pixels ``pixels[start:stop]``, averaged into ``result``."""
    h, w = frame.height, frame.width
    px = pixels[start:stop]
    paths = frame.paths
    m = len(px) * n
    ray, offsets, sun_dirs = (np.empty((m, k), np.float32) for k in (3, 2, 3))
    angle = paths.sun_angle_deg if paths.soft_shadows else 0.0
    edge_samples(px, n, frame.rays.xy, ICDF, paths.antialias, frame.sun,
                 disc_frame(frame.sun, angle), ray, offsets, sun_dirs)  # fmt: skip
    dirs = ray @ frame.rotation.T
    cos_axis = np.ascontiguousarray(ray[:, 2])
    hits, t_body, body, on_body = tracer.first(frame, None, dirs)
    samples = np.zeros((m, _K, 3), np.float32)
    sample_material = np.full(m, -1, np.int32)
    rows = np.flatnonzero((hits.mesh >= 0) & ~on_body)
    if rows.size:
        dist = hits.distance[rows]
        points = frame.origin + dist[:, None].astype(np.float64) * dirs[rows]
        surf, sub = tracer.surfaces(hits, rows, dirs[rows], points, 0.5 * frame.pixel_angle,
                                    max(1, paths.glints // n),
                                    multiscatter=paths.multiscatter)  # fmt: skip
        geo = surf[:, S_GEO : S_GEO + 3]
        own_sun = np.ascontiguousarray(sun_dirs[rows])
        sun = tracer.sun_light(frame, points, geo, own_sun.astype(np.float64) if angle else None)
        spot = tracer.spot_light(frame, cos_axis[rows], dist)
        shade_direct(surf, sub, np.negative(dirs[rows]), own_sun, sun, spot, rows, samples)
        sample_material[rows] = tracer.material_of(hits, rows)
    rows = np.flatnonzero(on_body)
    if rows.size:
        points = frame.origin + t_body[rows, None] * dirs[rows]
        samples[rows, :DIRECT] = tracer.shade_bodies(
            frame, body[rows], points, dirs[rows], cos_axis[rows], t_body[rows].astype(np.float32)
        )
        sample_material[rows] = len(tracer.names) + body[rows]
    _borrow_bounce(out, w, h, np.repeat(px, n), offsets, sample_material, samples)
    per_pixel = samples.reshape(len(px), n, _K, 3)
    total = per_pixel[:, 0].copy()  # the sum .mean(axis=1) forms, in its order, but faster
    for j in range(1, n):
        total += per_pixel[:, j]
    result[start:stop] = total / np.float32(n)


def _rows_of(v: F64, n: int) -> F32:
    """``n`` rows of one vector (float32, contiguous), for kernels that take one per hit."""
    return np.ascontiguousarray(np.broadcast_to(v.astype(np.float32), (n, 3)))


def _borrow_bounce(
    out: _Image, w: int, h: int, pixel: Index, offsets: F32, material: I32, samples: F32
) -> None:
    """Bounce light of sub-pixel samples, borrowed from the pixels around them.

    A sample that sees the pixel's own material takes the pixel's bounce light;
    one that sees another takes the neighbour's towards it if that neighbour
    sees the same material, else none.
    """
    own = out.material[pixel] == material
    samples[own, DIRECT:] = out.radiance[pixel[own], DIRECT:]
    rest = np.flatnonzero(~own & (material >= 0))
    if rest.size == 0:
        return
    row, col = np.divmod(pixel[rest], w)
    nrow = np.clip(row + np.sign(np.round(offsets[rest, 1])).astype(np.intp), 0, h - 1)
    ncol = np.clip(col + np.sign(np.round(offsets[rest, 0])).astype(np.intp), 0, w - 1)
    nb = nrow * w + ncol
    match = out.material[nb] == material[rest]
    samples[rest[match], DIRECT:] = out.radiance[nb[match], DIRECT:]
