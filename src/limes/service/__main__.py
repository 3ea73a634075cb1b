"""`python -m limes.service`: the `limes serve` options, for shells and supervisors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from limes.service.config import ServiceConfig, ServiceError
from limes.service.run import serve
from limes.store.database import database_url_from_env


def _off(text: str) -> str | None:
    return None if text.lower() in ("off", "none", "") else text


def config_from_args(argv: Sequence[str] | None = None) -> ServiceConfig:
    """A `ServiceConfig` from command-line options (the same names as `limes serve`)."""
    p = argparse.ArgumentParser(prog="limes serve", description=__doc__)
    p.add_argument("--scenario", required=True, help="built-in name or scenario file")
    p.add_argument(
        "--database",
        default=None,
        help="SQLAlchemy URL (default: LIMES_DATABASE_URL, else sqlite:///limes.db)",
    )
    p.add_argument("--mqtt", default="127.0.0.1:1883", type=_off, help="HOST:PORT or off")
    p.add_argument("--mqtt-client-id", default="limes-serve")
    p.add_argument("--mqtt-topic-prefix", default="limes/v1/sensors")
    p.add_argument("--cot-port", type=int, default=None, help="CoT TCP+UDP port (default off)")
    p.add_argument("--http", default="127.0.0.1:8080", type=_off, help="HOST:PORT or off")
    p.add_argument("--plan", default=None, help="an assessment's summary.json")
    p.add_argument("--tick", type=float, default=1.0, help="seconds between ticks; 0: none")
    p.add_argument("--tick-lag", type=float, default=10.0)
    p.add_argument("--recover", type=float, default=3600.0, help="replay window, seconds")
    p.add_argument("--batch-wait", type=float, default=0.005)
    p.add_argument("--reorder-window", type=float, default=1.0, help="tracker late-data window")
    p.add_argument("--scan-window", type=float, default=0.5, help="tracker scan bins, seconds")
    p.add_argument("--log-json", action="store_true", help="one JSON object per log line")
    p.add_argument("--no-tune-gc", action="store_true", help="leave the garbage collector as is")
    p.add_argument("--log-level", default="INFO")
    a = p.parse_args(argv)
    return ServiceConfig(
        scenario=a.scenario, database_url=a.database or database_url_from_env(), mqtt=a.mqtt,
        mqtt_client_id=a.mqtt_client_id, mqtt_topic_prefix=a.mqtt_topic_prefix,
        cot_port=a.cot_port, http=a.http, plan=a.plan, tick_s=a.tick or None,
        tick_lag_s=a.tick_lag, recover_s=a.recover, batch_wait_s=a.batch_wait,
        reorder_window_s=a.reorder_window, scan_window_s=a.scan_window,
        log_json=a.log_json, log_level=a.log_level, tune_gc=not a.no_tune_gc,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the service; a configuration error is one line on stderr and exit status 2."""
    try:
        serve(config_from_args(argv))
    except ServiceError as error:
        print(f"limes serve: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # e.g. the database or a port refused: one line, not a trace
        print(f"limes serve: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
