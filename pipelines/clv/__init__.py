"""Customer lifetime value: BG/NBD and Gamma-Gamma fitted on the shop's own orders.

The models and their fits (:mod:`.models`), and the command's analysis (:mod:`.value`).
"""

from .models import Fit, FitError, fit_bgnbd, fit_gamma_gamma
from .value import ClvResult, ClvSpec, clv, parse_horizon

__all__ = ["ClvResult", "ClvSpec", "Fit", "FitError", "clv", "fit_bgnbd", "fit_gamma_gamma",
           "parse_horizon"]
