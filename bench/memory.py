"""Peak memory of a benchmark's phases, read from Linux's /proc (shared by the benchmarks)."""

from __future__ import annotations

from pathlib import Path


def memory_mib(field: str) -> float:
    """VmRSS or VmHWM of this process, in MiB."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    line = next(line for line in status.splitlines() if line.startswith(f"{field}:"))
    return int(line.split()[1]) / 1024  # kB


def reset_peak_memory() -> bool:
    """Start VmHWM again from the current resident set (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True
