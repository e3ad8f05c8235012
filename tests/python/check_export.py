#!/usr/bin/env python3
"""Checks a customer export (the ZIP of Export on a customer page) with Python's zipfile, a reader this project
did not write.

Usage: check_export.py ZIP (or `check` from another script, on a path or a file object)

Every entry's CRC must hold; the archive must hold manifest.json (last), calls.json and messages.json; the manifest must
list every other file once, each with the size and SHA-256 of its bytes; calls.json and messages.json must be
JSON arrays as long as the manifest's counts, each element with its id and its record's. Prints the counts as
JSON ({"records": N, "calls": N, "messages": N, "files": N, "missing": N}) and exits 0; otherwise exits
non-zero with the reason.
"""

import hashlib
import json
import sys
import zipfile


def fail(reason: str) -> None:
    print(f"check_export: {reason}", file=sys.stderr)
    sys.exit(1)


def check(source) -> dict:
    """The counts of the export at `source` (a path or a binary file object), once it passes every check."""
    with zipfile.ZipFile(source) as archive:
        broken = archive.testzip()
        if broken is not None:
            fail(f"{broken} fails its CRC")
        names = archive.namelist()
        if len(names) != len(set(names)):
            fail("an entry name repeats")
        for required in ("manifest.json", "calls.json", "messages.json"):
            if required not in names:
                fail(f"{required} is missing")
        if names[-1] != "manifest.json":
            fail("the manifest is not the archive's last file (it is written once everything else is)")
        manifest = json.loads(archive.read("manifest.json"))
        listed = {entry["path"]: entry for entry in manifest["files"]}
        if set(listed) != set(names) - {"manifest.json"}:
            fail(f"the manifest lists {sorted(listed)}, the archive holds {sorted(names)}")
        for name, entry in listed.items():
            content = archive.read(name)
            if len(content) != entry["bytes"]:
                fail(f"{name}: {len(content)} bytes, the manifest says {entry['bytes']}")
            if hashlib.sha256(content).hexdigest() != entry["sha256"]:
                fail(f"{name}: its SHA-256 is not the manifest's")
        counts = manifest["counts"]
        records = {record["id"] for record in manifest["records"]}
        for kind in ("calls", "messages"):
            rows = json.loads(archive.read(f"{kind}.json"))
            if not isinstance(rows, list) or len(rows) != counts[kind]:
                fail(f"{kind}.json holds {len(rows)} rows, the manifest counts {counts[kind]}")
            if any(not row.get("id") or row.get("record_id") not in records for row in rows):
                fail(f"a row of {kind}.json has no id or names a record the manifest does not list")
        stored = counts["recordings"] + counts["media"]
        if stored != len(names) - 3 + len(manifest["files_missing"]):
            fail(f"the manifest counts {stored} stored files, the archive holds {len(names) - 3}")
    return {
        "records": len(records),
        "calls": counts["calls"],
        "messages": counts["messages"],
        "files": len(names) - 3,
        "missing": len(manifest["files_missing"]),
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: check_export.py ZIP")
    print(json.dumps(check(sys.argv[1])))
