"""Plan: line of sight, detection fields, response times, interruption, reports."""

from limes.analysis.assess import AssessConfig, AssessError, assess

__all__ = ["AssessConfig", "AssessError", "assess"]
