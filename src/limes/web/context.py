"""What the map's routes share: the scenario's base layers (built on first use), assessments
and the dispatch advice, kept on `app.state.web` by `mount_web`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from limes.scenario.model import Scenario
from limes.web.advice import AdviceSource
from limes.web.assessments import AssessmentStore
from limes.web.config import WebConfig
from limes.web.coverage import CoverageLayers
from limes.web.hillshade import HillshadeTiles


@dataclass
class WebContext:
    """The map's server-side state for one app."""

    scenario: Scenario | None
    config: WebConfig
    assessments: AssessmentStore | None = None
    advice: AdviceSource | None = None
    _tiles: HillshadeTiles | None = field(default=None, init=False, repr=False)
    _coverage: CoverageLayers | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def hillshade_tiles(self, build: bool = False) -> HillshadeTiles | None:
        """The relief tiles; built from the terrain on the first call with `build` (seconds)."""
        if self.scenario is None:
            return None
        with self._lock:
            if self._tiles is None and build:
                self._tiles = HillshadeTiles(
                    self.scenario.terrain(), self.scenario.frame, self.config.hillshade
                )
            return self._tiles

    def coverage_layers(self) -> CoverageLayers | None:
        """The sensors' coverage outlines (computed per class and light on first use)."""
        if self.scenario is None:
            return None
        with self._lock:
            if self._coverage is None:
                self._coverage = CoverageLayers(self.scenario, self.config.coverage_cell_m)
            return self._coverage
