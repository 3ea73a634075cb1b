"""Process-wide state belongs to the process's owner: the garbage collector is frozen only when
asked, signal handlers are installed only on the main thread, and the relief-shading thread is
joined by whoever started it."""

from __future__ import annotations

import gc
import signal
import threading
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
import yaml

import limes.ops.dispatch_fields
from limes.ops.pipeline import Pipeline
from limes.scenario.load import scenario_from_data
from limes.service import Service, ServiceConfig, serve

SCENARIO: dict[str, Any] = {
    "name": "state-test",
    "title": "Straight test border (invented positions)",
    "border": {"line": [[41.0, 34.0], [41.1, 34.0]], "inside": "right"},
    "terrain": {"synthetic": {}},
    "controllers": [{"name": "far", "channel": "net 1"}],
    "sectors": [{"name": "all", "command": "A", "far_side": "far", "from_km": 0, "to_km": 9.3}],
}


def test_warming_up_a_pipeline_leaves_the_collector_alone_unless_asked() -> None:
    pipeline = Pipeline(scenario_from_data(deepcopy(SCENARIO)))
    before = gc.get_freeze_count()
    pipeline.warm_up()
    assert gc.get_freeze_count() == before
    try:
        pipeline.warm_up(freeze_gc=True)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def test_serve_off_the_main_thread_installs_no_signal_handlers_and_stops_on_request(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "state-test.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO), encoding="utf-8")
    config = ServiceConfig(
        scenario=scenario, database_url=f"sqlite:///{tmp_path / 's.db'}", mqtt=None,
        http="127.0.0.1:0", tick_s=None, quarantine_file=None,
    )  # fmt: skip
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    freeze_count = gc.get_freeze_count()
    stop = threading.Event()
    started = threading.Event()
    services: list[Service] = []
    failures: list[BaseException] = []

    def ready(service: Service) -> None:
        services.append(service)
        started.set()

    def run() -> None:
        try:
            serve(config, ready=ready, stop=stop)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)
            started.set()

    thread = threading.Thread(target=run, name="serve-off-main")
    thread.start()
    assert started.wait(120), "the service did not start"
    assert failures == []
    assert {s: signal.getsignal(s) for s in handlers} == handlers
    web = services[0].app.state.web if services[0].app is not None else None
    assert web is not None
    stop.set()
    thread.join(120)
    assert not thread.is_alive() and failures == []
    # The service stopped its map, and with it the relief shading its map started.
    assert web._shading is None
    assert not [t for t in threading.enumerate() if t.name == "limes-hillshade"]
    assert gc.get_freeze_count() == freeze_count


def test_stop_ends_the_travel_field_warming_and_joins_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The map warms every free unit's travel fields after the relief, in a thread; a stop while
    it runs must end and join it (a thread left inside a compiled kernel when the interpreter
    exits aborts the process). The field build here lasts until the stop closes the cache, so
    the stop cannot simply outwait it."""
    data = deepcopy(SCENARIO)
    data["units"] = [{"id": f"qrf-{i}", "kind": "qrf", "base": {"lon": 41.05, "lat": 33.95},
                      "readiness": {"mean_s": 60, "sd_s": 10}, "speeds": {"off_road_kmh": 5}}
                     for i in range(3)]  # fmt: skip
    scenario = tmp_path / "state-test.yaml"
    scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
    building = threading.Event()
    services: list[Service] = []
    real_build = limes.ops.dispatch_fields.build_field

    def slow_build(*args: Any, **kwargs: Any) -> Any:
        building.set()
        advice = services[0].app.state.services.advice  # type: ignore[union-attr]
        while not advice.closed:  # until the stop closes the cache
            threading.Event().wait(0.05)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(limes.ops.dispatch_fields, "build_field", slow_build)
    service = Service(ServiceConfig(
        scenario=scenario, database_url=f"sqlite:///{tmp_path / 's.db'}", mqtt=None,
        http="127.0.0.1:0", tick_s=None, quarantine_file=None,
    ))  # fmt: skip
    services.append(service)
    service.start()
    try:
        assert building.wait(120), "the warming never started a field"
    finally:
        service.stop()
    assert not [t for t in threading.enumerate()
                if t.name in ("limes-hillshade", "limes-travel-field")]  # fmt: skip
    advice = service.app.state.services.advice  # type: ignore[union-attr]
    assert advice.built == 1  # the field in progress finished; the other units' never began
