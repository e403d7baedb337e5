"""Random durations (handle time, patience, time in the IVR), validated and sampled in numpy batches.

Every distribution is a frozen pydantic model chosen by its ``dist`` key; parameters are
durations (seconds after parsing). ``sample(rng, n)`` returns ``n`` draws in seconds as a
float64 array; ``mean_s`` is the analytic mean in seconds.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .durations import parse_duration_s

if TYPE_CHECKING:  # numpy is imported where a batch is drawn: reading a scenario (validate) needs none of it
    import numpy as np


def _positive_duration(value: object) -> float:
    seconds = parse_duration_s(value)
    if seconds <= 0:
        raise ValueError("must be a duration > 0")
    return seconds


def _non_negative_duration(value: object) -> float:
    seconds = parse_duration_s(value)
    if seconds < 0:
        raise ValueError("must be a duration >= 0")
    return seconds


PositiveDuration = Annotated[float, BeforeValidator(_positive_duration)]
"""A duration in seconds, strictly positive."""
NonNegativeDuration = Annotated[float, BeforeValidator(_non_negative_duration)]
"""A duration in seconds, zero allowed."""


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def mean_s(self) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


MAX_SPREAD = 1e6  # sd/mean between 1e-6 and 1e6: beyond, the shape parameters overflow or mean nothing


def _check_spread(mean: float, sd: float) -> None:
    if not 1 / MAX_SPREAD <= sd / mean <= MAX_SPREAD:
        raise ValueError(f"sd must be between a millionth and a million times the mean (sd/mean is {sd / mean:.3g})")


class _WithMean(_Dist):
    """A distribution given by its mean (and maybe more): that mean is ``mean_s``."""

    dist: str  # each subclass narrows it to its own name, which stays the first key
    mean: PositiveDuration

    @property
    def mean_s(self) -> float:
        return self.mean


class _WithMeanSd(_WithMean):
    """A distribution given by its own mean and standard deviation, within :data:`MAX_SPREAD`."""

    sd: PositiveDuration

    @model_validator(mode="after")
    def _spread(self) -> _WithMeanSd:
        _check_spread(self.mean, self.sd)
        return self


class Exponential(_WithMean):
    """Exponential with the given mean (memoryless: the M in M/M/c)."""

    dist: Literal["exponential"]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean, n)


class Lognormal(_WithMeanSd):
    """Lognormal given by its own mean and standard deviation (not those of the underlying normal)."""

    dist: Literal["lognormal"]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return rng.lognormal(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2), n)


class Gamma(_WithMeanSd):
    """Gamma given by mean and standard deviation (shape = mean²/sd², scale = sd²/mean)."""

    dist: Literal["gamma"]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.gamma((self.mean / self.sd) ** 2, self.sd**2 / self.mean, n)


class Uniform(_Dist):
    """Uniform on [low, high)."""

    dist: Literal["uniform"]
    low: NonNegativeDuration
    high: PositiveDuration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError("high must be greater than low")
        return self

    @property
    def mean_s(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)


class Triangular(_Dist):
    """Triangular with lower limit, mode and upper limit."""

    dist: Literal["triangular"]
    low: NonNegativeDuration
    mode: NonNegativeDuration
    high: PositiveDuration

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("needs low <= mode <= high and low < high")
        return self

    @property
    def mean_s(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, n)


class Deterministic(_Dist):
    """Always the same value."""

    dist: Literal["deterministic"]
    value: PositiveDuration

    @property
    def mean_s(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        # Draw anyway so that the stream advances as for any other distribution.
        import numpy as np

        rng.random(n)
        return np.full(n, self.value)


class Empirical(_Dist):
    """Resamples observed durations with replacement (e.g. handle times from a call log)."""

    dist: Literal["empirical"]
    values: Annotated[list[NonNegativeDuration], Field(min_length=1)]

    @model_validator(mode="after")
    def _some_positive(self) -> Empirical:
        if max(self.values) <= 0:
            raise ValueError("needs at least one value > 0")
        return self

    @property
    def mean_s(self) -> float:
        import numpy as np  # its pairwise sum: the mean every file has always printed

        return float(np.mean(self.values))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        import numpy as np

        return np.asarray(self.values, dtype=float)[rng.integers(0, len(self.values), n)]


Distribution = Annotated[
    Exponential | Lognormal | Gamma | Uniform | Triangular | Deterministic | Empirical,
    Field(discriminator="dist"),
]
"""Any of the distributions above, chosen by the ``dist`` key."""

DIST_NAMES = ("exponential", "lognormal", "gamma", "uniform", "triangular", "deterministic", "empirical")
