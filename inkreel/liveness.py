"""Who is running: a token for this process, and whether another process's token is alive.

A temporary file and a pending paid call carry the token of the process that made them, so
another run can tell a live writer (leave its file, wait for its call) from a dead one (sweep
the file, count the call as interrupted). On this host the token names a process id and that
process's start time (a reused pid is not mistaken for the dead one); a process on another
host is judged by the shared database's advisory locks (`providers.ledger_db`), or, without
one, assumed alive.
"""

from __future__ import annotations

import hashlib
import os
import socket
from functools import cache

HOST = hashlib.blake2b(socket.gethostname().encode("utf-8"), digest_size=3).hexdigest()


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), else None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


@cache
def _token(pid: int) -> str:
    return f"{HOST}-{pid}-{_start_ticks(pid) or 0}"


def owner_token() -> str:
    """This process's token: host, pid and start time, e.g. '3fa1c2-4121-88213'.

    Computed per pid, so a forked worker process gets its own.
    """
    return _token(os.getpid())


def parse_token(token: str) -> tuple[str, int, str] | None:
    parts = token.split("-")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1]), parts[2]


def alive_here(token: str) -> bool | None:
    """Whether the token's process is alive, if it ran on this host; None for another host."""
    parsed = parse_token(token)
    if parsed is None:
        return False
    host, pid, ticks = parsed
    if host != HOST:
        return None
    if pid == os.getpid():
        return True
    now = _start_ticks(pid)
    if now is not None:
        return ticks == "0" or now == ticks
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
