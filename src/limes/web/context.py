"""What the map's routes share: the scenario's base layers (built on first use), assessments
and the dispatch advice, kept on `app.state.web` by `mount_web`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from limes.errors import LimesError
from limes.scenario.model import Scenario
from limes.web.advice import AdviceSource
from limes.web.assessments import AssessmentStore
from limes.web.config import WebConfig
from limes.web.coverage import CoverageLayers
from limes.web.hillshade import HillshadeTiles

log = logging.getLogger(__name__)


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
    _shading: threading.Thread | None = field(default=None, init=False, repr=False)

    def shade_in_background(self, then: Callable[[], None] | None = None) -> None:
        """Start building the relief tiles now, in a thread this context owns, so the first
        tiles come at once, then run `then` (e.g. the units' travel fields); `close()` joins it."""
        if self.scenario is None or self._shading is not None:
            return

        def shade() -> None:
            try:
                self.hillshade_tiles(build=True)
            except LimesError:  # the tiles route reports it to the user on first use
                log.exception("could not shade the scenario terrain")
            if then is not None:
                try:
                    then()
                except LimesError:  # advice reports it on first use
                    log.exception("could not prepare the background work")

        # A daemon, so a program that never closes the context can still exit.
        self._shading = threading.Thread(target=shade, name="limes-hillshade", daemon=True)
        self._shading.start()

    def close(self, timeout: float | None = None) -> None:
        """Wait for the background work this context started (the relief shading)."""
        if self._shading is not None:
            self._shading.join(timeout)
            self._shading = None

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
