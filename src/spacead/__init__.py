"""spacead: visual anomaly detection for space imagery.

The detectors live in :mod:`spacead.detect`, image and dataset input/output in
:mod:`spacead.data`, and the ``spacead`` command in :mod:`spacead.cli`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
