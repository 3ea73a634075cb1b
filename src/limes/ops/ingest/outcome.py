"""What one message turned into: the detections accepted and the rejections, in order."""

from __future__ import annotations

from dataclasses import dataclass, field

from limes.ops.detection import Detection
from limes.ops.ingest.dead_letter import Rejection


@dataclass(slots=True)
class IngestOutcome:
    """Detections and rejections from one message (or one batch of reports)."""

    detections: list[Detection] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def extend(self, other: IngestOutcome) -> None:
        """Append another outcome's detections and rejections to this one."""
        self.detections.extend(other.detections)
        self.rejections.extend(other.rejections)

    @classmethod
    def rejected(cls, rejection: Rejection) -> IngestOutcome:
        """An outcome of one rejection and nothing accepted."""
        return cls(rejections=[rejection])
