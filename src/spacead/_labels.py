"""The mask labels every package shares: space, station, hazard (ALLO's 3-class masks).

Defined here, below every package, so that reading masks (:mod:`spacead.data`) does not
import the scene's geometry libraries; :mod:`spacead.scene` is their public home.
"""

BACKGROUND, FOREGROUND, ANOMALY = 0, 1, 2
