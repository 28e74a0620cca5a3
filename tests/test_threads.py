"""The thread policy: settings, the load-aware default and worker shares."""

import cv2
import numba
import pytest

import spacead
from spacead import _threads
from spacead._threads import (
    busy_elsewhere,
    compute_threads,
    computing,
    get_threads,
    parse_threads,
    pinned,
    set_threads,
    thread_limit,
    tile_threads,
    usable_cores,
    worker_share,
)


@pytest.fixture(autouse=True)
def _restore_setting(monkeypatch):
    monkeypatch.delenv("SPACEAD_THREADS", raising=False)
    yield
    set_threads(None)


def test_default_is_auto_and_a_fixed_count_is_kept():
    assert get_threads() == "auto"
    spacead.set_threads(1)
    assert spacead.get_threads() == 1 and compute_threads() == 1 and tile_threads() == 1
    set_threads("AUTO")
    assert get_threads() == "auto" and tile_threads() == usable_cores()


@pytest.mark.parametrize("bad", [0, -2, "many", "", True, 1.5, "2.0"])
def test_bad_settings_are_refused_with_the_accepted_forms(bad):
    with pytest.raises(ValueError, match=r"threads must be 'auto' or an integer >= 1, got "):
        set_threads(bad)


def test_the_environment_variable_sets_the_default(monkeypatch):
    monkeypatch.setenv("SPACEAD_THREADS", "1")
    assert get_threads() == 1 and compute_threads() == 1
    monkeypatch.setenv("SPACEAD_THREADS", "zero")
    with pytest.raises(ValueError, match="SPACEAD_THREADS must be 'auto' or an integer >= 1"):
        get_threads()
    set_threads(2)  # an explicit setting wins over the environment
    assert get_threads() == 2


def test_thread_limit_restores_the_previous_setting():
    set_threads(2)
    with thread_limit(1):
        assert get_threads() == 1
    assert get_threads() == 2


@pytest.mark.parametrize(("busy", "expected"), [(0, 4), (1, 3), (3, 1), (9, 1), (None, 4)])
def test_auto_gives_the_cores_that_other_processes_leave_idle(monkeypatch, busy, expected):
    monkeypatch.setattr(_threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(_threads, "busy_elsewhere", lambda: busy)
    assert compute_threads() == expected


def test_the_cgroup_quota_caps_the_usable_cores(monkeypatch):
    monkeypatch.setattr(_threads, "_cgroup_quota", lambda: 0.5)
    assert usable_cores() == 1
    monkeypatch.setattr(_threads, "_cgroup_quota", lambda: None)
    assert usable_cores() >= 1


def test_busy_elsewhere_reads_the_system_and_counts_this_process(monkeypatch):
    busy = busy_elsewhere()
    assert busy is None or busy >= 0
    assert _threads._own_running() >= 1  # the caller itself is running

    def no_proc(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr("builtins.open", no_proc)
    assert busy_elsewhere() is None


def test_worker_share_divides_the_cores_unless_fixed(monkeypatch):
    monkeypatch.setattr(_threads, "usable_cores", lambda: 8)
    assert worker_share(2) == 4 and worker_share(3) == 2 and worker_share(16) == 1
    set_threads(3)
    assert worker_share(2) == 3


def test_computing_sets_numba_and_opencv_and_restores_numba():
    before = numba.get_num_threads()
    with computing(1) as n:
        assert n == 1 and numba.get_num_threads() == 1 and cv2.getNumThreads() == 1
    assert numba.get_num_threads() == before
    with computing(10_000) as n:  # never more than numba's pool
        assert n == numba.config.NUMBA_NUM_THREADS


def test_pinned_undoes_itself():
    before = (get_threads(), numba.get_num_threads(), cv2.getNumThreads())
    with pinned(1):
        assert get_threads() == 1 and numba.get_num_threads() == 1 and cv2.getNumThreads() == 1
    assert (get_threads(), numba.get_num_threads(), cv2.getNumThreads()) == before


def test_parse_threads_names_its_source():
    assert parse_threads(" 3 ") == 3 and parse_threads("auto") == "auto"
    with pytest.raises(ValueError, match="--threads must be"):
        parse_threads("x", "--threads")
