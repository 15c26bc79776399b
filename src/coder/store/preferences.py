"""Workbench preferences per coder (panel width, chosen coders): remembered, not study data."""

from __future__ import annotations

import json
from typing import Any

from coder.store.db import Store


def get_preference(store: Store, coder: str, key: str, default: Any = None) -> Any:
    """The value ``coder`` last chose for ``key`` (JSON), else ``default``."""
    row = store.conn.execute("SELECT value FROM preferences WHERE coder = ? AND key = ?",
                             (coder, key)).fetchone()
    if row is None:
        return default
    try:
        return json.loads(row[0])
    except ValueError:
        return default


def set_preference(store: Store, coder: str, key: str, value: Any) -> None:
    """Remember ``value`` for ``coder``'s ``key``; its own small commit, no event."""
    with store.transaction():
        store.conn.execute(
            "INSERT INTO preferences (coder, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (coder, key) DO UPDATE SET value = excluded.value",
            (coder, key, json.dumps(value)))
