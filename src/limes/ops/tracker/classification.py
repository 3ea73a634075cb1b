"""Class fusion: each detection's declared class and confidence sharpen the track's belief."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker.config import HIDDEN_CLASSES, TrackerConfig


class ClassFuser:
    """Bayesian update of class probabilities through a confusion model.

    The likelihood of a declaration d with confidence c given true class h is
    c·P(d | h) + (1 - c)·(1 / number of declarable classes): a sensor that is not confident
    says little, one that declares "unknown" says nothing (that column is flat).
    Before each update the belief is mixed with the uniform by `class_mixing`, so the class
    of a track can still change after many consistent wrong-looking reports.
    """

    def __init__(self, config: TrackerConfig) -> None:
        self.confusion = config.confusion_matrix()  # (hidden, declared)
        self.mixing = config.class_mixing
        self.n_hidden = len(HIDDEN_CLASSES)

    def likelihood(
        self, declared: NDArray[np.intp], confidence: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """(n, hidden) likelihood of each declaration under each true class."""
        uniform = 1.0 / self.confusion.shape[1]
        c = confidence[:, None]
        out: NDArray[np.float64] = c * self.confusion[:, declared].T + (1.0 - c) * uniform
        return out

    def prior(self, n: int) -> NDArray[np.float64]:
        """The belief of a track that nothing has been said about yet."""
        return np.full((n, self.n_hidden), 1.0 / self.n_hidden)

    def fuse(
        self,
        probs: NDArray[np.float64],
        declared: NDArray[np.intp],
        confidence: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Posterior class probabilities (n, hidden) after one detection each."""
        mixed = (1.0 - self.mixing) * probs + self.mixing / self.n_hidden
        post = mixed * self.likelihood(declared, confidence)
        total = post.sum(axis=1, keepdims=True)
        out: NDArray[np.float64] = post / np.where(total > 0, total, 1.0)
        return out
