"""From a frame and its reported pose to the reference MRAD compares it with.

:class:`ReferencePipeline` holds one :class:`~spacead.render.ReferenceRenderer`
(the CAD model and its Embree scene are loaded once) and, per frame: renders
the light components at the reported pose, optionally refines the pose by
render-and-compare, fits the light scales and exposure to the frame and
applies the tone curve. Every step's time is reported.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import cv2
import numpy as np
import numpy.typing as npt

from spacead._tone import check_tone
from spacead._validate import as_rgb, check_positive
from spacead.data import FrameSpec
from spacead.detect import Params
from spacead.render import QUALITIES, LightComponents, LightPaths, ReferenceRenderer
from spacead.scene import PBR_MATERIALS, Camera, StationModel, load_model

from ._match import PhotometricFit, fit_photometric, nominal_fit
from ._refine import PoseCorrection, refine_pose

U8 = npt.NDArray[np.uint8]
MATERIAL_MODES = ("file", "default")


@dataclass(frozen=True)
class ReferenceParams(Params):
    """How references are made from the CAD model (``--render-param NAME=VALUE``).

    Attributes
    ----------
    materials : {"file", "default"}
        The model file's materials, or spacead's default white paint everywhere.
    match : bool
        Fit the light scales and exposure to each frame (:func:`fit_photometric`);
        otherwise the frame's nominal lights times ``exposure``.
    tone : {"srgb", "gamma2.2", "linear"}
        The camera's tone curve.
    exposure : float
        Exposure of the unmatched render (``match`` false).
    psf_sigma : float
        Gaussian blur (pixels at 1080 lines, scaled with the frame) of the
        render's linear radiance, like a lens's point-spread function: a
        camera (and a path tracer's pixel filter and denoiser) smooths what one
        ray per pixel leaves sharp. 3 (0.75 px at 270 lines) was best of 0, 1,
        2, 3, 4 and 5 on the independent station's development set (pixel AP
        46.8 without, 50.5 with; ``docs/reference-pipeline.md``).
    refine : bool
        Refine the reported pose by render-and-compare (:func:`refine_pose`).
        Off by default: on the sim-to-real benchmark it cut the station's median
        reprojection error from 2.8 to 0.6 pixels, but on top of MRAD's own
        reference alignment (``MRADParams.align``) it did not raise MRAD's
        scores on the development set, for ~100 ms a frame (README, "MRAD on
        your own station"). Turn it on for the pose itself, or larger errors.
    refine_steps : int
        Levenberg-Marquardt steps per pyramid level (at most); the same steps
        give the same result on any machine.
    refine_budget_s : float
        Time budget of the refinement per frame, for live feeds (0 = none:
        results then do not depend on the machine's load).
    fit_pixels : int
        Station pixels sampled by the photometric fit (3000, 4000 and 8000
        gave the same pixel AP on the independent station's development sets,
        2000 a little less; ``docs/reference-pipeline.md``).
    fit_prior : float
        Weight of the fit's prior towards the frame's nominal light mix (see
        :func:`fit_photometric`; 0.02 was best of 0, 0.002, 0.02 and 0.1 on the
        development set, ``docs/reference-pipeline.md``).
    quality : {"direct", "live", "high"}
        The light paths rendered (:meth:`spacead.render.LightPaths.preset`):
        ``"direct"`` the one-bounce ray cast, ``"live"`` glossy and diffuse
        bounces, the Sun's disc and the pixel filter at edges, fast enough for
        a camera feed; ``"high"`` the same with more rays, for offline
        ``spacead render``.
    fit_materials : bool
        Fit a gain per material and colour channel too, so a reflectance the
        file gets wrong is absorbed (on the independent station with three
        materials' colours made 10-40 % wrong, pixel AP 48.8 without, 50.0
        with; 50.1 and 50.3 with the right colours).
    material_prior : float
        Weight, in pixels, of each material's prior towards a gain of 1.
    max_lines : int
        Frames taller than this get a reference rendered and fitted at this
        height, then upsampled (mask: nearest neighbour), so that a 1080p feed
        keeps its frame rate: the camera blur (``psf_sigma``) hides the
        difference. 0 renders every line; ``quality="high"`` always does.
    """

    method: ClassVar[str] = "reference"
    materials: Literal["file", "default"] = "file"
    match: bool = True
    tone: Literal["srgb", "gamma2.2", "linear"] = "srgb"
    exposure: float = 1.0
    psf_sigma: float = 3.0
    refine: bool = False
    refine_steps: int = 8
    refine_budget_s: float = 0.0
    fit_pixels: int = 3000
    fit_prior: float = 0.02
    quality: Literal["direct", "live", "high"] = "live"
    fit_materials: bool = True
    material_prior: float = 500.0
    max_lines: int = 540

    def __post_init__(self) -> None:
        if self.materials not in MATERIAL_MODES:
            raise ValueError(
                f"materials must be one of {', '.join(MATERIAL_MODES)}, got {self.materials!r}"
            )
        check_tone(self.tone)
        if self.quality not in QUALITIES:
            raise ValueError(f"quality must be one of {', '.join(QUALITIES)}, got {self.quality!r}")
        check_positive(self.material_prior, "material_prior", allow_zero=True)
        if not (isinstance(self.max_lines, int) and self.max_lines >= 0):
            raise ValueError(f"max_lines must be an integer >= 0, got {self.max_lines!r}")
        for name in ("match", "refine", "fit_materials"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        check_positive(self.exposure, "exposure")
        check_positive(self.psf_sigma, "psf_sigma", allow_zero=True)
        check_positive(self.refine_budget_s, "refine_budget_s", allow_zero=True)
        if not 1 <= self.refine_steps <= 100:
            raise ValueError(f"refine_steps must be in [1, 100], got {self.refine_steps!r}")
        if self.fit_pixels < 100:
            raise ValueError(f"fit_pixels must be >= 100, got {self.fit_pixels!r}")
        check_positive(self.fit_prior, "fit_prior", allow_zero=True)


@dataclass(frozen=True)
class ReferenceResult:
    """One frame's reference.

    Attributes
    ----------
    image : ndarray of uint8, shape (H, W, 3)
        The reference (RGB), for MRAD.
    mask : ndarray of uint8, shape (H, W)
        Exact labels of the render (0 space, 1 station and bodies).
    camera : Camera
        The pose rendered: the reported one, or the refined one.
    fit : PhotometricFit
        The light scales used.
    correction : PoseCorrection
        What refinement changed (zero when off).
    seconds : dict of str to float
        Time of each step (``render``, ``refine``, ``match``, ``total``).
    """

    image: U8
    mask: U8
    camera: Camera
    fit: PhotometricFit
    correction: PoseCorrection
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable record of the fit, the pose correction and the timings."""
        return {
            "photometric": self.fit.to_dict(),
            "pose_correction": self.correction.to_dict(),
            "reference_ms": {k: round(1e3 * v, 2) for k, v in self.seconds.items()},
        }


def painted(model: StationModel, material: str = "white_paint") -> StationModel:
    """The same model with every part in one of spacead's materials (textures dropped)."""
    mat = PBR_MATERIALS[material]
    parts = tuple(dataclasses.replace(p, material=mat) for p in model.parts)
    return dataclasses.replace(model, parts=parts, notes=(*model.notes, f"all parts {material}"))


class ReferencePipeline:
    """Renders, refines and matches references of one CAD model for many frames.

    Parameters
    ----------
    model : StationModel or path-like
        The station model (see :func:`spacead.scene.load_model`).
    params : ReferenceParams, optional
        How references are made; its defaults if omitted.
    threads : int, optional
        Render threads (default: every CPU this process may use).

    Examples
    --------
    >>> import numpy as np, trimesh
    >>> from spacead.data import FrameSpec
    >>> from spacead.scene import Intrinsics, ModelPart, PBRMaterial, StationModel
    >>> box = trimesh.creation.box(extents=(4.0, 4.0, 4.0))
    >>> model = StationModel((ModelPart("box", box, PBRMaterial("paint", (0.6, 0.6, 0.6))),))
    >>> cam = Intrinsics.from_fov(80, 60, 60.0).camera((0.0, 0.0, -10.0), np.eye(3))
    >>> frame = FrameSpec("f.png", cam, (0.0, 0.6, -0.8))
    >>> pipe = ReferencePipeline(model, ReferenceParams(match=False))
    >>> ref = pipe.reference(np.zeros((60, 80, 3), np.uint8), frame)
    >>> ref.image.shape, int(ref.mask[30, 40]), ref.image[0, 0].tolist()
    ((60, 80, 3), 1, [0, 0, 0])
    """

    def __init__(
        self,
        model: StationModel | str | os.PathLike[str],
        params: ReferenceParams | None = None,
        *,
        threads: int | None = None,
    ) -> None:
        self.params = params or ReferenceParams()
        if not isinstance(self.params, ReferenceParams):
            raise TypeError(f"params must be ReferenceParams, got {type(self.params).__name__}")
        loaded = model if isinstance(model, StationModel) else load_model(model)
        if self.params.materials == "default":
            loaded = painted(loaded)
        self.renderer = ReferenceRenderer(
            loaded, threads=threads, paths=LightPaths.preset(self.params.quality)
        )

    def render(
        self, frame: FrameSpec, camera: Camera | None = None, paths: LightPaths | None = None
    ) -> LightComponents:
        """The light components of ``frame`` (at ``camera`` if given, else its reported pose).

        ``paths`` overrides the light paths of :attr:`ReferenceParams.quality`.
        """
        return self.renderer.render(
            camera if camera is not None else frame.camera,
            sun_direction=frame.sun_direction,
            sun_strength=frame.sun_strength,
            spotlight=frame.spotlight,
            bodies=frame.bodies,
            paths=paths,
        )

    def reference(self, query: Any, frame: FrameSpec) -> ReferenceResult:
        """The reference of one frame (see the class notes).

        Parameters
        ----------
        query : array_like, shape (H, W[, C])
            The camera frame (converted as the detectors convert it).
        frame : FrameSpec
            Its reported pose, intrinsics and lights.

        Raises
        ------
        ValueError
            If the frame's size is not its intrinsics' size.
        """
        p = self.params
        q = as_rgb(query, "query")
        k = frame.camera.intrinsics
        if q.shape[:2] != (k.height, k.width):
            raise ValueError(
                f"{frame.file_path}: frame is {q.shape[1]} x {q.shape[0]} pixels but its "
                f"intrinsics say {k.width} x {k.height}"
            )
        t0 = time.perf_counter()
        camera, correction = frame.camera, PoseCorrection.none()
        if p.refine:  # renders its own small images, so the full-size render comes after
            camera, correction = refine_pose(
                q, self, frame, tone=p.tone, budget_s=p.refine_budget_s
            )
        t1 = time.perf_counter()
        lines = k.height if p.quality == "high" or not p.max_lines else min(k.height, p.max_lines)
        small = camera
        if lines < k.height:  # rendered smaller, fitted to the frame shrunk to match
            width = max(1, round(k.width * lines / k.height))
            small = k.scaled(width, lines).camera(camera.position, camera.rotation)
            q_fit = cv2.resize(q, (width, lines), interpolation=cv2.INTER_AREA)
        else:
            q_fit = q
        components = self.render(frame, small)
        t2 = time.perf_counter()
        if p.match:
            fit = fit_photometric(
                q_fit,
                components,
                tone=p.tone,
                max_pixels=p.fit_pixels,
                prior=p.fit_prior,
                material_prior=p.material_prior if p.fit_materials else None,
            )
        else:
            fit = nominal_fit(p.tone, p.exposure, components=components.n_components)
        size = None if lines == k.height else (k.width, k.height)
        image = fit.apply(components, psf_sigma=p.psf_sigma * lines / 1080.0, size=size)
        mask = components.mask
        if size is not None:
            mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
        t3 = time.perf_counter()
        seconds = {"refine": t1 - t0, "render": t2 - t1, "match": t3 - t2, "total": t3 - t0}
        return ReferenceResult(image, mask, camera, fit, correction, seconds)
