"""spacead: visual anomaly detection for space imagery.

The detectors live in :mod:`spacead.detect`, image and dataset input/output in
:mod:`spacead.data`, and the ``spacead`` command in :mod:`spacead.cli`. How
many threads the compute uses is set here (:func:`set_threads`; default
``"auto"``: per call, the cores that are idle at that moment).
"""

from ._threads import compute_threads, get_threads, set_threads, thread_limit

__version__ = "0.1.0"

__all__ = ["__version__", "compute_threads", "get_threads", "set_threads", "thread_limit"]
