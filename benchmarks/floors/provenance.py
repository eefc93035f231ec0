"""The provenance stage's floor: hashing the files."""

from __future__ import annotations

from typing import Any

# ---------------------------------------------------------------------------------------
# provenance: the SHA-256 of the data and results files
# ---------------------------------------------------------------------------------------


def provenance_floor(paths: dict[str, Any]) -> dict[str, str]:
    """The SHA-256 of each file (hashlib over 1 MiB blocks), the record's core."""
    import hashlib

    out = {}
    for name, path in paths.items():
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        out[name] = digest.hexdigest()
    return out
