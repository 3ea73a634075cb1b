"""Share: partners, the one release guard, intelligence reports, STIX/TAXII, CoT out, audit.

`release(partner, obj)` is the only way anything leaves limes for a partner; every channel
(TAXII collections, CoT streams, the partner API, exports, federation) calls it. See
docs/sharing.md.
"""

from limes.share.guard import (
    Decision,
    PartnerPolicy,
    Release,
    UnknownPartner,
    explain,
    partner_policy,
    release,
)
from limes.share.report import IntelReport, ReportStatus, ThreatLevel
from limes.share.shareable import Shareable

__all__ = [
    "Decision",
    "IntelReport",
    "PartnerPolicy",
    "Release",
    "ReportStatus",
    "Shareable",
    "ThreatLevel",
    "UnknownPartner",
    "explain",
    "partner_policy",
    "release",
]
