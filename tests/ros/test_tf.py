"""The TF buffer against hand-computed transforms (tf2's lookup rules)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from spacead.ros import TFBuffer, TFError
from spacead.ros._tf import NS

IDENTITY = (0.0, 0.0, 0.0, 1.0)


def _z(deg: float) -> tuple[float, float, float, float]:
    x, y, z, w = Rotation.from_euler("z", deg, degrees=True).as_quat()
    return (x, y, z, w)


def test_translation_is_linear_and_rotation_slerped_between_samples():
    tf = TFBuffer()
    tf.add("world", "arm", 10 * NS, (0.0, 0.0, 0.0), _z(0.0))
    tf.add("world", "arm", 14 * NS, (4.0, -8.0, 2.0), _z(90.0))
    m = tf.lookup("world", "arm", 11 * NS)  # a quarter of the way
    assert m[:3, 3] == pytest.approx([1.0, -2.0, 0.5], abs=1e-12)
    # slerp of 0 and 90 degrees about z at 1/4: 22.5 degrees, by hand
    c, s = np.cos(np.radians(22.5)), np.sin(np.radians(22.5))
    assert m[:3, :3] == pytest.approx(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]), abs=1e-12)
    assert tf.lookup("world", "arm", 14 * NS)[:3, 3] == pytest.approx([4.0, -8.0, 2.0])


def test_a_chain_composes_static_and_moving_links_in_both_directions():
    tf = TFBuffer()
    tf.add("world", "base", 0, (1.0, 0.0, 0.0), _z(90.0), static=True)
    tf.add("base", "cam", 0, (0.0, 0.0, 0.0), IDENTITY)
    tf.add("base", "cam", 2 * NS, (2.0, 0.0, 0.0), IDENTITY)
    tf.add("/base", "tool", 0, (0.0, 0.0, 3.0), IDENTITY, static=True)  # a leading / is ignored
    m = tf.lookup("world", "cam", NS)  # cam at x = 1 in base; base turned 90 degrees at x = 1
    assert m[:3, 3] == pytest.approx([1.0, 1.0, 0.0], abs=1e-12)
    back = tf.lookup("cam", "world", NS)
    assert back == pytest.approx(np.linalg.inv(m), abs=1e-12)
    across = tf.lookup("/tool", "cam", NS)  # through their common parent
    assert across[:3, 3] == pytest.approx([1.0, 0.0, -3.0], abs=1e-12)
    # a static link holds at any time, the moving one only within its samples
    assert tf.lookup("world", "tool", 10**6 * NS)[:3, 3] == pytest.approx([1.0, 0.0, 3.0])


def test_extrapolation_is_refused_beyond_the_tolerance():
    tf = TFBuffer()
    tf.add("world", "cam", 1 * NS, (0.0, 0.0, 0.0), IDENTITY)
    tf.add("world", "cam", 2 * NS, (1.0, 0.0, 0.0), IDENTITY)
    with pytest.raises(TFError, match=r"TF world <- cam at 2\.500000000 s is after its samples"):
        tf.lookup("world", "cam", 2 * NS + NS // 2)
    with pytest.raises(TFError, match=r"at 0\.900000000 s is before its samples"):
        tf.lookup("world", "cam", NS - NS // 10)
    lenient = TFBuffer(tolerance_s=0.2)
    lenient.add("world", "cam", 1 * NS, (5.0, 0.0, 0.0), IDENTITY)
    assert lenient.lookup("world", "cam", NS + NS // 10)[0, 3] == 5.0  # the nearest sample


def test_status_waits_for_a_sample_after_the_stamp():
    tf = TFBuffer()
    assert tf.status("world", "cam", NS) == "wait"  # not connected yet
    tf.add("world", "cam", 0, (0.0, 0.0, 0.0), IDENTITY)
    assert tf.status("world", "cam", NS) == "wait"
    tf.add("world", "cam", 2 * NS, (0.0, 0.0, 0.0), IDENTITY)
    assert tf.status("world", "cam", NS) == "ok"


def test_unconnected_frames_and_bad_samples_are_named():
    tf = TFBuffer()
    tf.add("world", "base", 0, (0.0, 0.0, 0.0), IDENTITY, static=True)
    tf.add("odom", "cam", 0, (0.0, 0.0, 0.0), IDENTITY, static=True)
    with pytest.raises(
        TFError, match=r"TF never connects 'world' and 'cam' \(frames: base, cam, odom, world\)"
    ):
        tf.lookup("world", "cam", 0)
    with pytest.raises(TFError, match=r"TF world <- arm at 0\.000000000 s is not finite"):
        tf.add("world", "arm", 0, (np.nan, 0.0, 0.0), IDENTITY)
    with pytest.raises(TFError, match=r"quaternion of norm 0, not a rotation"):
        tf.add("world", "arm", 0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match=r"tolerance_s must be a number >= 0, got -1"):
        TFBuffer(tolerance_s=-1)


def test_old_samples_are_dropped_so_memory_stays_bounded():
    tf = TFBuffer(cache_s=1.0)
    for i in range(1000):  # 100 s at 10 Hz
        tf.add("world", "cam", i * NS // 10, (float(i), 0.0, 0.0), IDENTITY)
    link = tf._links["cam"]
    assert len(link.stamps) <= 12 and link.stamps[-1] == 999 * NS // 10
