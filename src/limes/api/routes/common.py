"""Dependencies the routers share: the services, the scenario, the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Request

from limes.api.errors import ApiError
from limes.api.services import Services
from limes.scenario.model import Scenario


def services(request: Request) -> Services:
    """The app's services."""
    found: Services = request.app.state.services
    return found


def scenario(request: Request) -> Scenario:
    """The served scenario, or 404 when none is loaded."""
    found = services(request).scenario
    if found is None:
        raise ApiError(404, "not_found", "no scenario is loaded (start with a scenario)")
    return found


def now() -> datetime:
    """The wall clock (aware UTC), for what is not on the floor's clock (tokens, accounts);
    what people do to incidents, units and sectors is stamped by `Services.now()`."""
    return datetime.now(UTC)


def aware(value: datetime | None, name: str) -> datetime | None:
    """A query/body time that must carry a zone."""
    if value is not None and value.tzinfo is None:
        raise ApiError(422, "invalid_request", f"{name}: give a timezone (e.g. Z or +03:00)")
    return value


#: An incident's id in a path: positive, and within what every store's integer column holds.
IncidentId = Annotated[int, Path(ge=1, le=2**62)]
