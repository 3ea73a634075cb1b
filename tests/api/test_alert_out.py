"""The API's alert body is the pipeline's `Alert`, plus what the store adds (its row id and
incident): a field added to `Alert` cannot be forgotten by the API."""

from __future__ import annotations

import dataclasses
import typing

from limes.api.models import AlertOut
from limes.ops.alert import Alert


def test_alert_out_carries_every_field_of_alert_with_its_type() -> None:
    hints = typing.get_type_hints(Alert)
    out = AlertOut.model_fields
    missing = [f.name for f in dataclasses.fields(Alert) if f.name not in out]
    # The crossing-group key is the store's to resolve: it serves the incident it opened or
    # joined (`incident_id`) instead.
    assert missing == ["incident_key"]
    differ = {
        f.name: (hints[f.name], out[f.name].annotation)
        for f in dataclasses.fields(Alert)
        if f.name in out
        and str(hints[f.name]) != str(out[f.name].annotation)
        and hints[f.name] is not out[f.name].annotation
    }
    # The API gives the class as its text; everything else keeps the pipeline's type.
    assert set(differ) <= {"target_class"}
    assert set(out) - {f.name for f in dataclasses.fields(Alert)} == {"id", "incident_id"}
