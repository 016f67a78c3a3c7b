"""The price forecast under carry-forward: the median of a point-mass + continuous mixture.

Under the protocol the weekly price is the median sale price carried forward over weeks
without sales. So the price actual k weeks after the origin equals the last observed value LV
*exactly* when there is no sale in those k weeks, and otherwise it is the median of the sales in
the latest week that had sales. Its predictive distribution is therefore

    G_k(x) = p0(k) * 1[x >= LV] + (1 - p0(k)) * F((x - L_k) / b_k)

with p0(k) = P(no sale in the next k weeks), L_k the price level (the median-of-five
combination of selection.py) and F the standard Laplace cdf with scale b_k. Under absolute
error (which MASE scores) the best point forecast is the median of G_k; the 80 % interval is its
10 % and 90 % quantiles. When p0(k) >= 0.5 the median is exactly LV; when p0(k) = 0 it is the
level L_k; in between it moves from L_k toward LV (and stops at LV): closed form below.

Estimates, from the training window only (the weeks before the origin):

* p0(k): the share of positions t in the window followed by k weeks without a sale (the
  empirical run-length of empty weeks, which keeps the over-dispersion of real demand), shrunk
  toward the Poisson value exp(-lambda k), lambda = mean units of the last 8 weeks, with weight
  ``P0_PRIOR_POSITIONS`` (8 pseudo-positions) against the m positions the window has: p0 =
  (m * empirical + 8 * poisson) / (m + 8). With 26+ weeks of history the empirical part dominates.
* b_k: the mean absolute one-step change of the price over the window's weeks with a sale
  (a week with a sale after a week with a price), i.e. how far a fresh weekly median lands from
  the previous price (for a Laplace variable the mean absolute deviation equals the scale),
  times sqrt(k) for the level's random-walk drift over k weeks. With no such change (constant
  price) b = 0 and the continuous part is a point mass at L_k.
"""

from __future__ import annotations

import numpy as np

P0_PRIOR_POSITIONS = 8.0  # pseudo-positions of the Poisson prior in p0's shrinkage
P0_RATE_WEEKS = 8  # weeks of recent units behind the Poisson prior's rate


def laplace_ppf(q: np.ndarray) -> np.ndarray:
    """Standard Laplace quantile function (q in (0, 1))."""
    q = np.asarray(q, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(q < 0.5, np.log(2.0 * q), -np.log(2.0 * (1.0 - q)))


def laplace_cdf(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    return np.where(z < 0, 0.5 * np.exp(np.minimum(z, 0.0)), 1.0 - 0.5 * np.exp(-np.maximum(z, 0.0)))


def mixture_quantile(q: float, lv, level, p0, b) -> np.ndarray:
    """The q-quantile of p0 * delta(LV) + (1 - p0) * Laplace(level, b), elementwise (broadcast).

    G(LV-) = (1 - p0) F((LV - L) / b), G(LV) = G(LV-) + p0. The quantile is
    L + b F^-1(q / (1 - p0)) when q < G(LV-), LV when G(LV-) <= q <= G(LV), and
    L + b F^-1((q - p0) / (1 - p0)) when q > G(LV). With b = 0 the continuous part is a point
    mass at L (F a step at 0)."""
    lv, level, p0, b = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (lv, level, p0, b)))
    p0 = np.clip(p0, 0.0, 1.0)
    cont = 1.0 - p0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(b > 0, (lv - level) / np.where(b > 0, b, 1.0), np.sign(lv - level) * np.inf)
        g_below = cont * np.where(b > 0, laplace_cdf(z), (lv > level).astype(float))
        g_at = g_below + p0
        q_low = np.clip(np.where(cont > 0, q / cont, 0.5), 1e-12, 1 - 1e-12)
        q_high = np.clip(np.where(cont > 0, (q - p0) / cont, 0.5), 1e-12, 1 - 1e-12)
        low = level + b * laplace_ppf(q_low)
        high = level + b * laplace_ppf(q_high)
    out = np.where(q < g_below, low, np.where(q <= g_at, lv, high))
    return np.asarray(out, dtype=float)


def mixture_median(lv, level, p0, b) -> np.ndarray:
    """The median of the mixture (see mixture_quantile): exactly LV when p0 >= 0.5, the level
    when p0 = 0, else the point between them where the mixture's cdf crosses 0.5."""
    return mixture_quantile(0.5, lv, level, p0, b)


def p_no_sale(units: np.ndarray, horizon: int) -> np.ndarray:
    """p0(k), k = 1..horizon: the probability of no sale in the k weeks after the window.

    Empirical share of window positions t (t = 0..n-1-k) followed by k empty weeks
    (units[t+1..t+k] == 0), shrunk toward exp(-lambda k) with lambda the mean units of the last
    P0_RATE_WEEKS weeks, weight P0_PRIOR_POSITIONS pseudo-positions."""
    u = np.asarray(units, dtype=float)
    n = u.size
    k = np.arange(1, horizon + 1)
    lam = float(np.mean(u[-P0_RATE_WEEKS:])) if n else 0.0
    prior = np.exp(-lam * k)
    if n < 2:
        return prior
    # sales in u[t+1..t+k] via cumulative sums: s[t+k+1] - s[t+1]
    s = np.concatenate([[0.0], np.cumsum(u > 0)])
    out = np.empty(horizon)
    for j, kk in enumerate(k):
        m = n - kk  # positions t = 0..n-1-kk
        if m <= 0:
            out[j] = prior[j]
            continue
        t = np.arange(m)
        empty = (s[t + kk + 1] - s[t + 1]) == 0
        out[j] = (empty.sum() + P0_PRIOR_POSITIONS * prior[j]) / (m + P0_PRIOR_POSITIONS)
    return out


def sale_week_spread(price: np.ndarray, units: np.ndarray) -> float:
    """Mean |price[t] - price[t-1]| over weeks t >= 1 with a sale (0.0 when there are none)."""
    x = np.asarray(price, dtype=float)
    u = np.asarray(units, dtype=float)
    if x.size < 2:
        return 0.0
    d = np.abs(np.diff(x))
    sale = (u[1:] > 0) & np.isfinite(d)
    return float(np.mean(d[sale])) if sale.any() else 0.0


def mixture_price(
    price: np.ndarray, units: np.ndarray, level: np.ndarray, horizon: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, lower_80, upper_80) for steps 1..horizon of one series' price after its window.

    ``price``/``units`` are the training window (weeks before the origin), ``level`` the level
    forecast L_k for the same steps (e.g. the median-of-five combination)."""
    x = np.asarray(price, dtype=float)
    lv = float(x[-1])
    p0 = p_no_sale(units, horizon)
    b = sale_week_spread(x, units) * np.sqrt(np.arange(1, horizon + 1))
    level = np.asarray(level, dtype=float)[:horizon]
    point = mixture_median(lv, level, p0, b)
    lower = mixture_quantile(0.1, lv, level, p0, b)
    upper = mixture_quantile(0.9, lv, level, p0, b)
    return point, np.minimum(lower, point), np.maximum(upper, point)
