"""Faults made for real in tests: a SQLite file turned read-only (even for root)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def set_read_only(database_file: Path, read_only: bool) -> None:
    """Turn a SQLite database file and its write-ahead log read-only, or writable again.

    As root, permissions do not stop writes, so the files are made immutable (`chattr +i`).
    The shared-memory file (`-shm`) is left alone: SQLite maps it, and a mapping that turns
    read-only under a running process kills it (SIGBUS), which is not the fault to test.
    """
    files = [database_file, database_file.with_name(database_file.name + "-wal")]
    root = os.geteuid() == 0
    if root and shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only")
    for f in files:
        if not f.exists():
            continue
        if root:
            done = subprocess.run(["chattr", "+i" if read_only else "-i", str(f)], check=False)
            if done.returncode != 0:
                pytest.skip(f"chattr cannot change {f} on this file system")
        else:
            f.chmod(0o444 if read_only else 0o644)
