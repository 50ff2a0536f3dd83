"""The Rasch model fitted by marginal maximum likelihood, for sparse designs.

Every candidate sees a different form (60 of hundreds of items), so the data are kept as
observations, one per (person, item) pair that was administered, never as a dense matrix
with holes. Abilities are taken to be normal with mean 0 and a standard deviation that
is estimated with the difficulties; the marginal likelihood is integrated on a fixed grid
of ability points and maximised with L-BFGS from its exact gradient (Fisher's identity:
the gradient of the marginal likelihood is the posterior mean of the complete-data one).

After fitting, the scale is shifted so the item difficulties average 0 (the usual Rasch
origin); the population mean moves by the same amount. Standard errors come from the
cross-product of each person's score vector (a consistent estimate of the information).
Person measures are Warm's weighted likelihood estimates (finite for zero and perfect
scores), and the item fit statistics are the infit and outfit mean squares of the
standardised residuals at those measures, with their Wilson-Hilferty t values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, sparse

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

GRID = np.linspace(-6.0, 6.0, 61)  # standard normal ability points, spacing 0.2
FIT_LOW, FIT_HIGH = 0.7, 1.3  # mean squares outside these flag misfit...
FIT_T = 2.0  # ...when their standardised value is also beyond +-2
MIN_FIT_N = 30  # fewer responses than this: no misfit flag (the statistic is too noisy)


@dataclass(frozen=True)
class Responses:
    """Scored observations: ``person[k]`` answered ``item[k]`` with ``score[k]`` (0 or 1)."""

    person: IntArray
    item: IntArray
    score: FloatArray
    persons: int
    items: int

    @classmethod
    def of(cls, person: list[int], item: list[int], score: list[float]) -> Responses:
        p, i = np.asarray(person, dtype=np.int64), np.asarray(item, dtype=np.int64)
        s = np.asarray(score, dtype=np.float64)
        return cls(p, i, s, int(p.max()) + 1 if p.size else 0, int(i.max()) + 1 if i.size else 0)


@dataclass(frozen=True)
class Calibration:
    difficulty: FloatArray  # per item, logits, items averaging 0
    difficulty_se: FloatArray
    infit: FloatArray  # information-weighted mean square
    outfit: FloatArray  # unweighted mean square
    infit_t: FloatArray  # each standardised (about N(0, 1) when the item fits)
    outfit_t: FloatArray
    n: IntArray  # responses per item
    p_value: FloatArray
    measure: FloatArray  # per person (WLE), on the same scale
    measure_se: FloatArray
    raw: FloatArray  # per person: items right
    taken: IntArray  # per person: items answered
    population_mean: float
    population_sd: float
    log_likelihood: float
    iterations: int
    converged: bool

    def misfit(self, index: int) -> list[str]:
        """Why item ``index`` misfits ([] when it fits or has too few responses to say):
        a mean square outside FIT_LOW-FIT_HIGH that is also significant (|t| > FIT_T)."""
        if self.n[index] < MIN_FIT_N:
            return []
        flags = []
        for name, value, t in (
            ("infit", self.infit[index], self.infit_t[index]),
            ("outfit", self.outfit[index], self.outfit_t[index]),
        ):
            if value > FIT_HIGH and t > FIT_T:
                flags.append(f"{name} {value:.2f}, above {FIT_HIGH} with t {t:.1f} (noisy)")
            elif value < FIT_LOW and t < -FIT_T:
                flags.append(
                    f"{name} {value:.2f}, below {FIT_LOW} with t {t:.1f} (too predictable)"
                )
        return flags


class CalibrationError(ValueError):
    """The data cannot identify the model (no responses, or an item everyone got right)."""


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


class _Marginal:
    """The marginal log-likelihood over the grid and its gradient, for L-BFGS."""

    def __init__(self, data: Responses) -> None:
        shape = (data.persons, data.items)
        self.m = sparse.csr_matrix((np.ones_like(data.score), (data.person, data.item)), shape)
        self.x = sparse.csr_matrix((data.score, (data.person, data.item)), shape)
        self.mt, self.xt = self.m.T.tocsr(), self.x.T.tocsr()
        self.right_per_item = np.asarray(self.x.sum(axis=0)).ravel()
        self.raw = np.asarray(self.x.sum(axis=1)).ravel()
        self.prior = np.exp(-0.5 * GRID**2)
        self.prior /= self.prior.sum()
        self.log_prior = np.log(self.prior)
        self.items = data.items
        self.data = data

    def posterior(self, params: FloatArray) -> tuple[float, FloatArray, FloatArray, float]:
        """Log-likelihood, posterior weights (persons x grid), P (items x grid), sigma."""
        b, sigma = params[:-1], math.exp(params[-1])
        theta = sigma * GRID
        z = theta[None, :] - b[:, None]  # items x grid
        p = _sigmoid(z)
        # log P = z + log(1 - P), and log(1 - P) = -log(1 + e^z), computed without overflow.
        loglik = self.x @ z - self.m @ np.logaddexp(0.0, z) + self.log_prior[None, :]
        top = loglik.max(axis=1, keepdims=True)
        w = np.exp(loglik - top)
        total = w.sum(axis=1, keepdims=True)
        w /= total
        return float((np.log(total) + top).sum()), w, p, sigma

    def __call__(self, params: FloatArray) -> tuple[float, FloatArray]:
        ll, w, p, sigma = self.posterior(params)
        n_iq = self.mt @ w  # expected responses per item at each grid point
        grad = np.empty_like(params)
        grad[:-1] = (n_iq * p).sum(axis=1) - self.right_per_item
        expected = self.m @ p  # persons x grid: expected raw score
        slope = self.raw[:, None] - expected
        grad[-1] = float((w * slope * (sigma * GRID)[None, :]).sum())
        return -ll, -grad

    def standard_errors(self, params: FloatArray, with_sd: bool = True) -> FloatArray:
        """From the cross-product of the persons' score vectors: the difficulties' SEs,
        then the log SD's (0 when ``with_sd`` is false: a fixed SD is no parameter)."""
        _ll, w, p, sigma = self.posterior(params)
        # Each person's score for item i: (posterior mean of P_i) - x_pi, where answered.
        eprob = w @ p.T  # persons x items
        values = eprob[self.data.person, self.data.item] - self.data.score
        scores = sparse.csr_matrix((values, (self.data.person, self.data.item)), self.m.shape)
        k = self.items
        if not with_sd:
            info = (scores.T @ scores).toarray()
            return np.append(_diagonal_of_inverse(info), 0.0)
        slope = self.raw[:, None] - self.m @ p
        s_sigma = (w * slope * (sigma * GRID)[None, :]).sum(axis=1)
        info = np.empty((k + 1, k + 1))
        info[:k, :k] = (scores.T @ scores).toarray()
        cross = np.asarray(scores.T @ s_sigma).ravel()
        info[:k, k] = info[k, :k] = cross
        info[k, k] = float(s_sigma @ s_sigma)
        return _diagonal_of_inverse(info)


def _diagonal_of_inverse(info: FloatArray) -> FloatArray:
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(info)
    out: FloatArray = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return out


def person_measures(
    data: Responses, difficulty: FloatArray, iterations: int = 60
) -> tuple[FloatArray, FloatArray]:
    """Warm's weighted likelihood estimate of each person's measure, and its SE."""
    b = difficulty[data.item]
    raw = np.bincount(data.person, weights=data.score, minlength=data.persons)
    taken = np.bincount(data.person, minlength=data.persons).astype(np.float64)
    # A start from the log-odds of the (smoothed) proportion right, shifted by the mean
    # difficulty of the items each person took.
    mean_b = np.bincount(data.person, weights=b, minlength=data.persons) / np.maximum(taken, 1)
    theta = np.log((raw + 0.5) / (taken - raw + 0.5)) + mean_b
    for _ in range(iterations):
        p = _sigmoid(theta[data.person] - b)
        q = p * (1.0 - p)
        info = np.bincount(data.person, weights=q, minlength=data.persons)
        skew = np.bincount(data.person, weights=q * (1.0 - 2.0 * p), minlength=data.persons)
        expected = np.bincount(data.person, weights=p, minlength=data.persons)
        safe = np.maximum(info, 1e-12)
        step = (raw - expected + skew / (2.0 * safe)) / safe
        step = np.clip(step, -1.0, 1.0)
        theta = theta + step
        if np.abs(step).max() < 1e-6:
            break
    p = _sigmoid(theta[data.person] - b)
    info = np.bincount(data.person, weights=p * (1.0 - p), minlength=data.persons)
    se: FloatArray = 1.0 / np.sqrt(np.maximum(info, 1e-12))
    return theta, se


def fit_statistics(
    data: Responses, difficulty: FloatArray, measure: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Infit and outfit mean squares per item at the person measures given, and each
    standardised by the Wilson-Hilferty cube root (Wright and Masters' t statistics)."""
    p = _sigmoid(measure[data.person] - difficulty[data.item])
    w = p * (1.0 - p)
    kurtosis = w * (1.0 - 3.0 * w)
    squared = (data.score - p) ** 2
    items = data.items

    def per_item(values: FloatArray) -> FloatArray:
        out = np.bincount(data.item, weights=values, minlength=items)
        return out.astype(np.float64)

    n = np.maximum(np.bincount(data.item, minlength=items).astype(np.float64), 1.0)
    w_sum = np.maximum(per_item(w), 1e-12)
    outfit = per_item(squared / w) / n
    infit = per_item(squared) / w_sum
    q_out = np.sqrt(np.maximum(per_item(kurtosis / w**2) / n**2 - 1.0 / n, 1e-12))
    q_in = np.sqrt(np.maximum(per_item(kurtosis - w**2) / w_sum**2, 1e-12))

    def t(ms: FloatArray, q: FloatArray) -> FloatArray:
        out: FloatArray = (np.cbrt(ms) - 1.0) * (3.0 / q) + q / 3.0
        return out

    return infit, outfit, t(infit, q_in), t(outfit, q_out)


def calibrate(
    data: Responses, *, fixed_sd: float | None = None, tolerance: float = 1e-6
) -> Calibration:
    """Item difficulties (with SEs and fit), person measures and the ability spread.

    ``fixed_sd`` holds the ability SD at that value (1.0 gives girth's ``rasch_mml``)."""
    if data.score.size == 0:
        raise CalibrationError("There are no scored responses to calibrate.")
    n = np.bincount(data.item, minlength=data.items)
    right = np.bincount(data.item, weights=data.score, minlength=data.items)
    if (n == 0).any():
        raise CalibrationError("Every item needs at least one response.")
    if ((right == 0) | (right == n)).any():
        raise CalibrationError(
            "An item that everyone got right (or wrong) has no finite difficulty."
        )
    marginal = _Marginal(data)
    p_value = right / n
    start = np.append(np.log((1 - p_value) / p_value), 0.0)
    if fixed_sd is None:
        bounds = [(-15.0, 15.0)] * data.items + [(-4.0, 3.0)]
    else:
        start[-1] = math.log(fixed_sd)
        bounds = [(-15.0, 15.0)] * data.items + [(start[-1], start[-1])]
    result = optimize.minimize(
        marginal,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 500, "ftol": tolerance * 1e-3, "gtol": tolerance},
    )
    params = np.asarray(result.x, dtype=np.float64)
    se_all = marginal.standard_errors(params, with_sd=fixed_sd is None)
    b_raw = params[:-1]
    shift = float(b_raw.mean())
    difficulty = b_raw - shift
    measure, measure_se = person_measures(data, difficulty)
    infit, outfit, infit_t, outfit_t = fit_statistics(data, difficulty, measure)
    taken = np.bincount(data.person, minlength=data.persons)
    return Calibration(
        difficulty=difficulty,
        difficulty_se=se_all[:-1],
        infit=infit,
        outfit=outfit,
        infit_t=infit_t,
        outfit_t=outfit_t,
        n=n.astype(np.int64),
        p_value=p_value,
        measure=measure,
        measure_se=measure_se,
        raw=np.bincount(data.person, weights=data.score, minlength=data.persons).astype(np.float64),
        taken=taken.astype(np.int64),
        population_mean=-shift,
        population_sd=math.exp(float(params[-1])),
        log_likelihood=-float(result.fun),
        iterations=int(result.nit),
        converged=bool(result.success),
    )


def simulate(
    rng: np.random.Generator,
    difficulty: FloatArray,
    ability: FloatArray,
    form_length: int,
) -> Responses:
    """Responses under the model, each person answering a random form of ``form_length``."""
    persons, items = ability.size, difficulty.size
    forms = np.argsort(rng.random((persons, items)), axis=1)[:, :form_length]
    person = np.repeat(np.arange(persons), form_length)
    item = forms.ravel()
    p = _sigmoid(ability[person] - difficulty[item])
    score = (rng.random(p.size) < p).astype(np.float64)
    return Responses(person.astype(np.int64), item.astype(np.int64), score, persons, items)


@dataclass(frozen=True)
class FormSpread:
    """How hard the drawn forms were for a candidate at the cut: each form's expected
    score (in items) at the measure where the average form's expected percentage is the
    pass mark."""

    cut_measure: float
    forms: int
    mean: float  # expected score at the cut, items
    sd: float
    low: float
    high: float
    p5: float
    p95: float
    over_one: float  # share of forms more than one item from the mean


def expected_at(data: Responses, difficulty: FloatArray, theta: float) -> FloatArray:
    """Each person's expected score (in items) on their own form at ``theta``."""
    chances = _sigmoid(theta - difficulty[data.item])
    out = np.bincount(data.person, weights=chances, minlength=data.persons)
    return out.astype(np.float64)


def cut_measure(data: Responses, difficulty: FloatArray, pass_share: float) -> float:
    """The measure at which the average form's expected share is the pass share."""
    taken = np.maximum(np.bincount(data.person, minlength=data.persons), 1).astype(np.float64)
    low, high = -8.0, 8.0
    for _ in range(60):  # bisection: the average form's expected share is monotone in theta
        middle = (low + high) / 2
        if float((expected_at(data, difficulty, middle) / taken).mean()) < pass_share:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def spread_of(scores: FloatArray, cut: float) -> FormSpread:
    mean = float(scores.mean())
    return FormSpread(
        cut,
        int(scores.size),
        mean,
        float(scores.std()),
        float(scores.min()),
        float(scores.max()),
        float(np.quantile(scores, 0.05)),
        float(np.quantile(scores, 0.95)),
        float((np.abs(scores - mean) > 1.0).mean()),
    )


def form_spread(data: Responses, difficulty: FloatArray, pass_share: float) -> FormSpread:
    """Every person's form (the items they answered) at the cut."""
    cut = cut_measure(data, difficulty, pass_share)
    return spread_of(expected_at(data, difficulty, cut), cut)
