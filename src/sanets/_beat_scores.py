"""Scores of beats and beat classes against reference annotations (issue 32), as the field reports them.

Detection (ANSI/AAMI EC57): each detected beat is matched to a reference beat within a window (150 ms), by
:func:`wfdb.processing.compare_annotations`; sensitivity = TP / (TP + FN), positive predictivity = TP / (TP + FP),
F1 their harmonic mean. Classes: clusters (a SAN's kernels, or k-means's) are named by the majority reference class
of their beats in the first half of a record (the mapping of unsupervised clustering evaluation), then each beat of
the second half takes its cluster's name; a class's sensitivity, positive predictivity and F1 follow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanets._extras import require

__all__ = ["AAMI", "BEAT_SYMBOLS", "BeatScores", "aami_classes", "class_scores", "majority_mapping", "score_beats"]

BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
"""The MIT-BIH annotation symbols that mark a beat; every other annotation (rhythm, noise, comments) is not scored."""

AAMI = {"N": "NLRej", "S": "AaJS", "V": "VE", "F": "F", "Q": "/fQ"}
"""AAMI EC57 beat classes and the MIT-BIH symbols each gathers (B, r, n and ? belong to none)."""


@dataclass(frozen=True)
class BeatScores:
    """Detected beats against reference beats: counts, ``sensitivity``, ``ppv``, ``f1`` (fractions), and the median
    ``|detected - reference|`` of the matched pairs in seconds (NaN without a match)."""

    tp: int
    fp: int
    fn: int
    sensitivity: float
    ppv: float
    f1: float
    median_error: float


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def score_beats(reference: np.ndarray, detected: np.ndarray, sampling_rate: float, window: float = 0.15) -> BeatScores:
    """Detected beats scored by :func:`wfdb.processing.compare_annotations` within ``window`` seconds.

    Parameters
    ----------
    reference, detected : array of int, shape (n,) and (k,)
        Beat sample indices, ascending.
    sampling_rate : float
        Hz.
    window : float
        The largest distance in seconds between a detection and the reference beat it matches.
    """
    processing = require("wfdb.processing", "scoring beats")
    reference, detected = np.asarray(reference, dtype=np.int64), np.asarray(detected, dtype=np.int64)
    if not len(reference) or not len(detected):
        tp, fp, fn, errors = 0, len(detected), len(reference), np.zeros(0)
    else:
        comparison = processing.compare_annotations(reference, detected, round(window * sampling_rate))
        comparison.compare()
        tp, fp, fn = int(comparison.tp), int(comparison.fp), int(comparison.fn)
        matched = np.asarray(comparison.matching_sample_nums)
        pairs = matched >= 0
        errors = np.abs(detected[matched[pairs]] - reference[pairs]) / sampling_rate
    sensitivity, ppv = _ratio(tp, tp + fn), _ratio(tp, tp + fp)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return BeatScores(tp, fp, fn, sensitivity, ppv, f1, float(np.median(errors)) if len(errors) else float("nan"))


def aami_classes(symbols: np.ndarray) -> np.ndarray:
    """Each MIT-BIH beat symbol's AAMI class (``"N"``, ``"S"``, ``"V"``, ``"F"``, ``"Q"``), ``""`` for none."""
    of = {symbol: name for name, members in AAMI.items() for symbol in members}
    return np.array([of.get(str(s), "") for s in symbols], dtype="U1")


def majority_mapping(clusters: np.ndarray, classes: np.ndarray, default: str = "N") -> dict[int, str]:
    """Each cluster's most frequent class among ``classes`` (ties: the first in :data:`AAMI` order); clusters that
    hold no beat are absent (they take ``default`` in :func:`class_scores`)."""
    order = list(AAMI)
    mapping = {}
    for cluster in np.unique(clusters):
        names, counts = np.unique(classes[clusters == cluster], return_counts=True)
        best = max(zip(names, counts), key=lambda pair: (pair[1], -order.index(pair[0]) if pair[0] in order else -99))
        mapping[int(cluster)] = str(best[0])
    return mapping


def class_scores(clusters: np.ndarray, classes: np.ndarray, cut: int, wanted: str = "V",
                 default: str = "N") -> tuple[float, float, float]:
    """Sensitivity, positive predictivity and F1 of class ``wanted`` on beats ``cut:`` when each cluster is named by
    :func:`majority_mapping` of beats ``:cut``.

    Parameters
    ----------
    clusters : array of int, shape (n,)
        Each beat's cluster (kernel), in time order.
    classes : array of str, shape (n,)
        Each beat's reference class.
    cut : int
        Beats before it name the clusters; beats from it are scored.
    """
    mapping = majority_mapping(clusters[:cut], classes[:cut], default)
    predicted = np.array([mapping.get(int(c), default) for c in clusters[cut:]])
    truth = classes[cut:]
    tp = int(np.sum((predicted == wanted) & (truth == wanted)))
    fp = int(np.sum((predicted == wanted) & (truth != wanted)))
    fn = int(np.sum((predicted != wanted) & (truth == wanted)))
    return _ratio(tp, tp + fn), _ratio(tp, tp + fp), _ratio(2 * tp, 2 * tp + fp + fn)
