"""BG/NBD and Gamma-Gamma: likelihoods, maximum-likelihood fits and the per-customer figures.

**BG/NBD** (Fader, Hardie and Lee 2005, "Counting your customers the easy way", *Marketing
Science* 24(2)): while alive a customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)``
and after each purchase drops out with probability ``p ~ Beta(a, b)``. A customer with
``x`` repeat purchases, the last at ``t_x``, observed for ``T`` has the likelihood of their
equation (6), computed here in logs with ``logaddexp`` so that it holds for thousands of
purchases. ``p_alive`` is their equation (13) and the expected purchases in the next ``t``
their equation (10), with the Gauss hypergeometric function ``scipy.special.hyp2f1``.

**Gamma-Gamma** (Fader, Hardie and Lee 2005, "RFM and CLV", *Journal of Marketing Research*
42(4); Fader and Hardie's note "The Gamma-Gamma model of monetary value", 2013): a
customer's spend per purchase averages ``zeta ~ Gamma(q, v)`` with shape ``p`` per purchase;
fitted on repeat customers' mean repeat spend ``m`` over ``x`` purchases. Their expected
spend per purchase is ``p (v + x m) / (p x + q - 1)``.

Both are fitted by maximum likelihood on the log parameters (``scipy.optimize.minimize``,
L-BFGS-B, Nelder-Mead as a fallback) with vectorised numpy log-likelihoods; standard errors
come from a central-difference Hessian of the log-likelihood at the optimum (delta method
from the log scale). Customers with the same figures are fitted once with a weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidOptionError

MAX_PARAM = 1e6  # a parameter beyond this (or below 1/MAX_PARAM) sits at a bound


class FitError(InvalidOptionError):
    """The model cannot be fitted to these customers (too few, or no convergence)."""


@dataclass(frozen=True)
class Fit:
    """Fitted parameters (by name), their standard errors and the log-likelihood."""

    params: dict[str, float]
    se: dict[str, float]
    log_likelihood: float
    customers: int


def bgnbd_loglik(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood at ``params = (r, alpha, a, b)``."""
    from scipy.special import gammaln

    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx),
            -np.inf,
        )
    return a1 + a2 + np.logaddexp(a3, a4)


def gamma_gamma_loglik(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each repeat customer's Gamma-Gamma log-likelihood at ``params = (p, q, v)``.

    The density of the mean spend ``m`` of ``x`` purchases (the constant in ``m`` and
    ``x`` kept, as lifetimes keeps it, so the figures compare).
    """
    from scipy.special import gammaln

    p, q, v = params
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + v))


def _fit(names: tuple[str, ...], loglik: Callable[..., Any], start: np.ndarray,
         customers: int, what: str, *, gradient: bool = False) -> Fit:
    from scipy.optimize import minimize

    def nll(logp: np.ndarray) -> float:
        value = -loglik(np.exp(logp))
        return value if np.isfinite(value) else 1e300

    def nll_grad(logp: np.ndarray) -> tuple[float, np.ndarray]:
        value, g = loglik(np.exp(logp), grad=True)
        if not np.isfinite(value) or not np.all(np.isfinite(g)):
            return 1e300, np.zeros_like(logp)
        return -value, -g

    if gradient:
        best = minimize(nll_grad, start, jac=True, method="L-BFGS-B",
                        options={"ftol": 1e-13, "gtol": 1e-8, "maxiter": 2000})
    else:
        best = minimize(nll, start, method="L-BFGS-B",
                        options={"ftol": 1e-12, "gtol": 1e-7, "maxiter": 2000})
    if not best.success or not np.isfinite(best.fun):
        again = minimize(nll, best.x, method="Nelder-Mead",
                         options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 20000})
        if again.fun <= best.fun:
            best = again
    params = np.exp(best.x)
    if not np.isfinite(best.fun) or best.fun >= 1e300:
        msg = f"the {what} fit did not converge on {customers:,} customers"
        raise FitError(msg, hint="give a longer history (--since earlier, --as-of later)")
    if np.any(params > MAX_PARAM) or np.any(params < 1 / MAX_PARAM):
        shown = ", ".join(f"{n} = {v:.4g}" for n, v in zip(names, params, strict=True))
        msg = f"the {what} fit ran to a bound ({shown}) on {customers:,} customers"
        raise FitError(msg, hint="the history shows too little repeat buying to fit; give "
                       "more customers or a longer history")
    se = _standard_errors(nll, best.x, params)
    return Fit(dict(zip(names, map(float, params), strict=True)),
               dict(zip(names, map(float, se), strict=True)), float(-best.fun), customers)


def _standard_errors(nll: Callable[[np.ndarray], float], at: np.ndarray,
                     params: np.ndarray) -> np.ndarray:
    """Delta-method standard errors from the Hessian of ``nll`` in the log parameters."""
    k = len(at)
    h = 1e-4
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            e_i, e_j = np.eye(k)[i] * h, np.eye(k)[j] * h
            value = (nll(at + e_i + e_j) - nll(at + e_i - e_j)
                     - nll(at - e_i + e_j) + nll(at - e_i - e_j)) / (4 * h * h)
            hess[i, j] = hess[j, i] = value
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    var = np.diag(cov)
    return np.where(var > 0, params * np.sqrt(np.abs(var)), np.nan)


def distinct(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of ``columns``, how many customers share each, and each one's row.

    The rows in ascending order of the first column, then the second...: those of
    ``np.unique(axis=0)``, found by one ``lexsort`` (``np.unique`` sorts the rows as
    records: 0.4 s for 170k customers, several times the lexsort).
    """
    order = np.lexsort(columns[::-1])
    ranked = [c[order] for c in columns]
    new = np.zeros(len(order), dtype=bool)
    new[:1] = True
    for c in ranked:
        new[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(order))).astype(float)
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return [c[starts] for c in ranked], counts, inverse


def _grouped(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of ``columns`` and how many customers share each."""
    rows, counts, _ = distinct(*columns)
    return rows, counts


def fit_bgnbd(x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> Fit:
    """BG/NBD by maximum likelihood; ``x`` repeat purchases, ``tx`` recency, ``T`` age."""
    from scipy.special import digamma, gammaln

    (gx, gtx, gT), w = _grouped(x, tx, T)
    # Times rescaled so alpha is near 1 while fitting (alpha scales with the time unit).
    scale = 10.0 / max(float(np.max(T)), 1e-9)
    # The special functions and logs depend on one column each, which takes few values
    # (purchase counts, days): evaluated on those and gathered, the likelihood costs a few
    # array operations per distinct customer (the same formula as :func:`bgnbd_loglik`).
    ux, ix = np.unique(gx, return_inverse=True)
    utx, itx = np.unique(gtx * scale, return_inverse=True)
    uT, iT = np.unique(gT * scale, return_inverse=True)
    repeat = gx > 0
    wsum = float(w.sum())

    def loglik(params: np.ndarray, grad: bool = False) -> Any:
        r, alpha, a, b = params
        head = (gammaln(r + ux) - gammaln(r) + gammaln(a + b) + gammaln(b + ux) - gammaln(b)
                - gammaln(a + b + ux))[ix]
        log_t = np.log(alpha + uT)[iT]
        a3 = -(r + gx) * log_t
        with np.errstate(divide="ignore", invalid="ignore"):
            log_tx = np.log(alpha + utx)[itx]
            a4 = np.where(repeat, np.log(a) - np.log(np.maximum(b + gx - 1, 1e-300))
                          - (r + gx) * log_tx, -np.inf)
        total = np.logaddexp(a3, a4)
        value = float((w * (head + total)).sum() + wsum * r * np.log(alpha))
        if not grad:
            return value
        # The gradient (digamma psi): with s3, s4 the shares of the two terms of the sum,
        # dL/dr = psi(r+x) - psi(r) + ln alpha - s3 ln(alpha+T) - s4 ln(alpha+t_x), and so on.
        s3 = np.exp(a3 - total)
        s4 = np.where(repeat, np.exp(a4 - total), 0.0)
        d_r = (digamma(r + ux) - digamma(r))[ix] - s3 * log_t - np.where(repeat, s4 * log_tx, 0)
        d_alpha = -(r + gx) * (s3 / (alpha + uT)[iT] + s4 / (alpha + utx)[itx])
        ab = (digamma(a + b) - digamma(a + b + ux))[ix]
        d_a = ab + s4 / a
        d_b = ab + (digamma(b + ux) - digamma(b))[ix] - s4 / np.maximum(b + gx - 1, 1e-300)
        # Weighted sums as (w * v).sum(), not w @ v: the BLAS dot product ran 8x slower
        # on two busy cores (its threads wait for each other).
        g = np.array([(w * d_r).sum() + wsum * np.log(alpha),
                      (w * d_alpha).sum() + wsum * r / alpha, (w * d_a).sum(), (w * d_b).sum()])
        return value, g * params  # per log parameter

    fit = _fit(("r", "alpha", "a", "b"), loglik, np.zeros(4), len(x), "BG/NBD",
               gradient=True)
    # Back to the data's time unit: alpha / scale; the log-likelihood of the unscaled times
    # differs by the Jacobian r * log(scale) per customer (the purchase times' density).
    r, alpha = fit.params["r"], fit.params["alpha"] / scale
    params = {**fit.params, "alpha": alpha}
    se = {**fit.se, "alpha": fit.se["alpha"] / scale}
    per = bgnbd_loglik(np.array([r, alpha, params["a"], params["b"]]), gx, gtx, gT)
    ll = float((w * per).sum())
    return Fit(params, se, ll, fit.customers)


def fit_gamma_gamma(x: np.ndarray, m: np.ndarray) -> Fit:
    """Gamma-Gamma on repeat customers (``x`` > 0) with a positive mean spend ``m``."""
    (gx, gm), w = _grouped(x, m)
    scale = 1.0 / max(float(np.mean(m)), 1e-9)

    def loglik(params: np.ndarray) -> float:
        return float((w * gamma_gamma_loglik(params, gx, gm * scale)).sum())

    fit = _fit(("p", "q", "v"), loglik, np.zeros(3), len(x), "Gamma-Gamma")
    v = fit.params["v"] / scale
    params = {**fit.params, "v": v}
    ll = float((w * gamma_gamma_loglik(np.array([params["p"], params["q"], v]), gx, gm)).sum())
    return Fit(params, {**fit.se, "v": fit.se["v"] / scale}, ll, fit.customers)


def p_alive(fit: Fit, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The probability each customer is still alive at ``T`` (1 without a repeat purchase)."""
    r, alpha, a, b = (fit.params[k] for k in ("r", "alpha", "a", "b"))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_ratio = (np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                     + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        out = 1.0 / (1.0 + np.exp(log_ratio))
    return np.where(x > 0, out, 1.0)


def expected_purchases(fit: Fit, t: float | np.ndarray, x: np.ndarray, tx: np.ndarray,
                       T: np.ndarray) -> np.ndarray:
    """Expected purchases of each customer in the next ``t`` (equation 10)."""
    from scipy.special import hyp2f1

    r, alpha, a, b = (fit.params[k] for k in ("r", "alpha", "a", "b"))
    t = np.asarray(t, dtype=float)
    z = t / (alpha + T + t)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        head = (a + b + x - 1) / (a - 1)
        tail = 1 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyp2f1(
            r + x, b + x, a + b + x - 1, z)
        ratio = np.where(
            x > 0,
            np.exp(np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                   + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))),
            0.0,
        )
    return head * tail / (1 + ratio)


def expected_spend(fit: Fit, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each customer's expected spend per purchase: ``p (v + x m) / (p x + q - 1)``."""
    p, q, v = (fit.params[k] for k in ("p", "q", "v"))
    return p * (v + x * m) / (p * x + q - 1)
