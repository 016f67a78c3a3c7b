"""Model names and the chosen model: the median of five forecasts.

``chosen`` forecasts, for every week after the origin, the median of five forecasts of that week:
mean_last_4, median_last_4, last_value, damped_ets and pooled_gbm. Its 80 % interval is the
median of the five lower bounds and the median of the five upper bounds.

Why a median ensemble: on weekly resale series no single method wins everywhere (the pooled
model is best where there are many series to learn from, last value where prices move in steps,
the 4-week mean where demand is noisy), and which one wins changes with the data set and the
level. A median of five follows whichever methods agree and ignores the one that is far off,
so it needs no weights or selection fitted to a data set (nothing to tune, nothing to overfit).
"""

from __future__ import annotations

import numpy as np

BASELINES = ("mean_last_4", "last_value", "seasonal_naive_4", "damped_ets")
CANDIDATES = ("median_last_4", "pooled_gbm")
CHOSEN_MODEL = "chosen"


class _MedianEnsemble:
    components = ("mean_last_4", "median_last_4", "last_value", "damped_ets", "pooled_gbm")

    def __call__(self, forecasts: dict, nonnegative: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """forecasts: component name -> (point, lower, upper), arrays of equal shape."""
        stacked = [np.stack([forecasts[c][part] for c in self.components]) for part in range(3)]
        point, lower, upper = (np.median(s, axis=0) for s in stacked)
        lower, upper = np.minimum(lower, point), np.maximum(upper, point)
        if nonnegative:
            point, lower, upper = (np.maximum(a, 0.0) for a in (point, lower, upper))
        return point, lower, upper


combine = _MedianEnsemble()
