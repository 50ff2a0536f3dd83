"""Differential item functioning: the Mantel-Haenszel procedure and ETS's A/B/C classes.

For each item, the persons who saw it are split by group (reference and focal) and by
stratum of the matching variable (here the Rasch measure, since forms differ), giving a
2 x 2 table per stratum of group by right/wrong. The common odds ratio alpha_MH, its
log's standard error (Robins, Breslow and Greenland), and the MH chi-square with the
continuity correction follow; MH D-DIF = -2.35 ln alpha_MH (negative: the item is harder
for the focal group than for reference persons of the same ability).

ETS classes (Zieky 1993): C when |D-DIF| >= 1.5 and significantly above 1 (one-sided,
5 %); A when |D-DIF| < 1 or the chi-square is not significant at 5 %; B otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
D_SCALE = -2.35
STRATA = 10  # quantile bands of the matching measure


class EtsClass(StrEnum):
    A = "A"  # negligible
    B = "B"  # slight to moderate
    C = "C"  # moderate to large: review the item


@dataclass(frozen=True)
class MantelHaenszel:
    alpha: float  # common odds ratio, reference over focal
    log_alpha_se: float
    d_dif: float
    d_se: float
    chi_square: float
    p_value: float
    reference: int  # persons in the analysis
    focal: int
    ets: EtsClass

    @property
    def favours(self) -> str:
        if self.ets == EtsClass.A:
            return ""
        return "reference" if self.d_dif < 0 else "focal"


def ets_class(d_dif: float, d_se: float, p_value: float) -> EtsClass:
    size = abs(d_dif)
    if size < 1.0 or p_value >= 0.05:
        return EtsClass.A
    if size >= 1.5 and d_se > 0 and (size - 1.0) / d_se > stats.norm.ppf(0.95):
        return EtsClass.C
    return EtsClass.B


def mantel_haenszel(tables: FloatArray) -> MantelHaenszel | None:
    """From K tables [[A, B], [C, D]] (rows reference, focal; columns right, wrong);
    None when no stratum has both groups and both outcomes."""
    a, b, c, d = tables[:, 0, 0], tables[:, 0, 1], tables[:, 1, 0], tables[:, 1, 1]
    n = a + b + c + d
    keep = (n > 1) & (a + b > 0) & (c + d > 0)
    a, b, c, d, n = a[keep], b[keep], c[keep], d[keep], n[keep]
    r, s = a * d / n, b * c / n
    if r.sum() == 0 or s.sum() == 0:
        return None
    alpha = float(r.sum() / s.sum())
    p, q = (a + d) / n, (b + c) / n
    var = (
        (p * r).sum() / (2 * r.sum() ** 2)
        + (p * s + q * r).sum() / (2 * r.sum() * s.sum())
        + (q * s).sum() / (2 * s.sum() ** 2)
    )
    se = math.sqrt(float(var))
    n_ref, n_foc, right, wrong = a + b, c + d, a + c, b + d
    expected = n_ref * right / n
    variance = n_ref * n_foc * right * wrong / (n**2 * (n - 1))
    total_var = float(variance.sum())
    chi = (abs(float(a.sum() - expected.sum())) - 0.5) ** 2 / total_var if total_var else 0.0
    p_value = float(stats.chi2.sf(chi, 1))
    d_dif = D_SCALE * math.log(alpha)
    d_se = abs(D_SCALE) * se
    return MantelHaenszel(
        alpha,
        se,
        d_dif,
        d_se,
        chi,
        p_value,
        int(n_ref.sum()),
        int(n_foc.sum()),
        ets_class(d_dif, d_se, p_value),
    )


def strata_of(measure: FloatArray, count: int = STRATA) -> IntArray:
    """Each person's stratum: quantile bands of the measure (ties stay together)."""
    edges = np.unique(np.quantile(measure, np.linspace(0, 1, count + 1)[1:-1]))
    out: IntArray = np.searchsorted(edges, measure, side="right").astype(np.int64)
    return out


def tables_by_item(
    person: IntArray,
    item: IntArray,
    score: FloatArray,
    group: IntArray,
    stratum: IntArray,
    items: int,
) -> FloatArray:
    """items x strata x 2 x 2 counts; ``group`` per person is 0 (reference), 1 (focal)
    or -1 (neither: left out)."""
    g = group[person]
    keep = g >= 0
    strata = int(stratum.max()) + 1 if stratum.size else 1
    wrong = (score[keep] < 1.0).astype(np.int64)
    index = ((item[keep] * strata + stratum[person][keep]) * 2 + g[keep]) * 2 + wrong
    counts = np.bincount(index, minlength=items * strata * 4).astype(np.float64)
    return counts.reshape(items, strata, 2, 2)


def analyse(
    person: IntArray,
    item: IntArray,
    score: FloatArray,
    group: IntArray,
    measure: FloatArray,
    items: int,
) -> list[MantelHaenszel | None]:
    """Mantel-Haenszel for every item, persons matched on ``measure``."""
    tables = tables_by_item(person, item, score, group, strata_of(measure), items)
    return [mantel_haenszel(tables[i]) for i in range(items)]
