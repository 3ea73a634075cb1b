"""Plan: line of sight, detection fields, response times, interruption, reports."""

# The names below are loaded on first use, so importing one light module of this package (or
# the package for one name) does not import all of it: `limes --help` stays fast.
from typing import TYPE_CHECKING

from limes.lazy import lazy_names

if TYPE_CHECKING:
    from limes.analysis.assess import AssessConfig, AssessError, assess
    from limes.analysis.summary_file import AssessmentSummary, load_assessment

_WHERE = {
    "AssessConfig": "limes.analysis.assess",
    "AssessError": "limes.analysis.assess",
    "assess": "limes.analysis.assess",
    "AssessmentSummary": "limes.analysis.summary_file",
    "load_assessment": "limes.analysis.summary_file",
}

lazy_names(__name__, _WHERE)


__all__ = [
    "AssessConfig",
    "AssessError",
    "AssessmentSummary",
    "assess",
    "load_assessment",
]
