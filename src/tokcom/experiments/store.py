"""A crash-safe result store: one SQLite database per output directory, one row per sweep point.

Each record is committed in its own transaction (WAL journal, ``synchronous=FULL``), keyed by the point's
hash, so a sweep killed at any instant (SIGKILL included) leaves only whole records, and a resumed sweep
runs exactly the points that are missing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tokcom.errors import InputError

DB_NAME = "results.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key     TEXT PRIMARY KEY,
    ord     INTEGER NOT NULL,
    point   TEXT NOT NULL,
    result  TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ResultStore:
    """Results of one sweep/demo directory.

    Args:
        directory: the output directory (created when ``create``); the database is ``DIR/results.sqlite``.
        create: create the directory and database when missing (else a missing store is an InputError).
    """

    def __init__(self, directory: str | Path, *, create: bool = True) -> None:
        self.dir = Path(directory)
        self.path = self.dir / DB_NAME
        if not self.path.exists():
            if not create:
                raise InputError(f"no results in {self.dir} (no {DB_NAME}); run tokcom sweep first")
            self.dir.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise InputError(f"{self.path} is not a tokcom result store ({e})") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def keys(self) -> set[str]:
        return {k for (k,) in self._db.execute("SELECT key FROM results")}

    def __contains__(self, key: str) -> bool:
        return self._db.execute("SELECT 1 FROM results WHERE key = ?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def put(self, key: str, order: int, point: dict[str, Any], result: dict[str, Any]) -> None:
        """Store one record atomically (a record already stored under ``key`` is kept)."""
        self._db.execute(
            "INSERT OR IGNORE INTO results (key, ord, point, result, created) VALUES (?, ?, ?, ?, ?)",
            (key, int(order), json.dumps(point, sort_keys=True), json.dumps(result, allow_nan=False),
             time.time()),
        )

    def delete(self, key: str) -> None:
        """Remove one record (a stale record being replaced)."""
        self._db.execute("DELETE FROM results WHERE key = ?", (key,))

    def records(self) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
        """``(key, point, result)`` in sweep order."""
        for key, point, result in self._db.execute("SELECT key, point, result FROM results ORDER BY ord, key"):
            yield key, json.loads(point), json.loads(result)

    def set_meta(self, name: str, value: Any) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, json.dumps(value)))

    def get_meta(self, name: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else default
