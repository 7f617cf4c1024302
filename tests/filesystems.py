"""Real file systems for the tests: a small tmpfs (full disks) or a read-only one.

Mounting needs root on Linux. Where the tests run as root (CI does, and so do the developers'
machines) a mount that fails is a failure of the test, said loudly; elsewhere (no root, not
Linux) the tests that need one are skipped with the reason, never passed silently.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def mounting_expected() -> bool:
    """Whether this process should be able to mount: root on Linux."""
    return sys.platform == "linux" and os.geteuid() == 0


@contextmanager
def tmpfs(where: Path, *, size: str = "1m", read_only: bool = False) -> Iterator[Path]:
    """A fresh tmpfs of `size` mounted at `where` (created), unmounted afterwards."""
    if not mounting_expected():
        pytest.skip("mounting a tmpfs needs root on Linux (CI runs as root)")
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0777" + (",ro" if read_only else "")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        pytest.fail(f"running as root, but `mount -t tmpfs` failed: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)
