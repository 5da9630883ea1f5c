"""New-customer cohorts: retention by first-order period.

And whether the lasting customers pay back the first-order offers (payback).
"""

from .cohorts import CohortResult, cohort_retention

__all__ = [
    "CohortResult",
    "cohort_retention",
]
