"""Stable GUIDs: the same study exports the same GUIDs every time (uuid5 of identities)."""

from __future__ import annotations

import uuid

# A fixed namespace for coder's REFI-QDA identifiers (itself a uuid5 of a URL-like name).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/coder/refi-qda")


class Guids:
    """GUIDs derived from a study's name and the stable identity of each thing."""

    def __init__(self, study: str):
        self.root = uuid.uuid5(NAMESPACE, study)

    def of(self, kind: str, *identity: object) -> str:
        """The GUID of ``kind`` (code, user, source, ...) with this identity, e.g. a name."""
        key = "\x1f".join([kind, *(str(part) for part in identity)])
        return str(uuid.uuid5(self.root, key))

    def code(self, name: str) -> str:
        return self.of("code", name.casefold())

    def user(self, name: str) -> str:
        return self.of("user", name)

    def source(self, sha256: str, name: str) -> str:
        return self.of("source", sha256, name)


def normalise_guid(value: str | None) -> str:
    """A GUID as other tools write it (any case, with or without braces) in one form."""
    return (value or "").strip().strip("{}").lower()
