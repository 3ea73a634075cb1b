"""The operations map served by `limes serve` (`limes.web.mount.mount_web(app)` adds it)."""
