#!/usr/bin/env python3
"""A client of the public API written from its OpenAPI document with `requests`, not with the console's code.

Usage: api_client_flow.py BASE_URL TOKEN (a console seeded with the demo data and end2end/fixtures.sql, whose
account erases at once, and a token of Acme with requests:read, requests:write and ingest, acting for Alex).

Runs a privacy platform's whole flow for the fixture person "Pia Platform" (a Lead and a Contact): a dry run,
an export of the person's data (the ZIP checked with zipfile by check_export.py, its counts the dry run's), the
request (sent twice with one Idempotency-Key: one request), polling it until its receipt is issued, the
receipt verified with jwcrypto against /.well-known/receipt-keys.json and checked to name the request and the
dry run's records, new activity of the person refused as suppressed, and a bulk dry run of a CSV written with
Python's csv (the erased person suppressed, an unknown one, a formula). Exits non-zero with the reason
otherwise.
"""

import base64
import csv
import io
import json
import sys
import time
import uuid

import requests
from jwcrypto import jwk, jws

from check_export import check

EMAIL = "pia.platform@example.com"
PHONE = "+1 415 555 0941"
WAIT_SECONDS = 60


def fail(message):
    print(f"api_client_flow: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def expect(response, status, content_type="application/json"):
    """The answer's JSON (or text), when it has `status` and `content_type`."""
    got = response.headers.get("Content-Type")
    if response.status_code != status or got != content_type:
        fail(f"{response.request.method} {response.request.path_url}: {response.status_code} {got}: {response.text}")
    return response.json() if content_type.endswith("json") else response.text


def main():
    if len(sys.argv) != 3:
        fail("usage: api_client_flow.py BASE_URL TOKEN")
    base, token = sys.argv[1].rstrip("/"), sys.argv[2]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"

    document = expect(api.get(f"{base}/api/v1/openapi.json"), 200)
    for path in ["/api/v1/erasure-requests", "/api/v1/erasure-requests/{id}", "/api/v1/erasure-requests/{id}/receipt", "/api/v1/calls", "/api/v1/exports"]:
        if path not in document["paths"]:
            fail(f"the OpenAPI document lacks {path}")

    preview = expect(api.post(f"{base}/api/v1/erasure-requests", json={"email": EMAIL, "dry_run": True}), 200)
    if preview["outcome"] != "erase_now" or len(preview["records"]) != 2:
        fail(f"unexpected dry run: {preview}")
    previewed = sorted(record["customer_id"] for record in preview["records"])

    exported = api.post(f"{base}/api/v1/exports", json={"email": EMAIL})
    if exported.status_code != 200 or exported.headers.get("Content-Type") != "application/zip":
        fail(f"export: {exported.status_code} {exported.headers.get('Content-Type')}")
    counts = check(io.BytesIO(exported.content))
    if (counts["records"], counts["calls"], counts["messages"]) != (2, preview["calls"], preview["messages"]):
        fail(f"the export {counts} is not the dry run's person: {preview}")

    key = str(uuid.uuid4())
    body = {"phone": PHONE}
    made = expect(api.post(f"{base}/api/v1/erasure-requests", json=body, headers={"Idempotency-Key": key}), 201)
    again = api.post(f"{base}/api/v1/erasure-requests", json=body, headers={"Idempotency-Key": key})
    if expect(again, 201)["id"] != made["id"] or again.headers.get("Idempotent-Replayed") != "true":
        fail(f"the same Idempotency-Key made another answer: {again.text}")
    request_id = made["id"]
    if made["state"] != "completed" or made["records"] != 2:
        fail(f"unexpected request: {made}")

    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        detail = expect(api.get(f"{base}/api/v1/erasure-requests/{request_id}"), 200)
        if detail["receipt_issued"]:
            break
        if time.monotonic() > deadline:
            fail(f"no receipt within {WAIT_SECONDS} s: {detail}")
        time.sleep(0.5)
    if sorted(record["customer_id"] for record in detail["records"]) != previewed:
        fail(f"the request's records are not the dry run's: {detail['records']}")

    receipt = expect(api.get(f"{base}/api/v1/erasure-requests/{request_id}/receipt"), 200, "application/jose").strip()
    published = requests.get(f"{base}/.well-known/receipt-keys.json")
    expect(published, 200)
    keys = jwk.JWKSet.from_json(published.text)
    signed = jws.JWS()
    try:
        signed.deserialize(receipt)
        signed.verify(keys.get_key(signed.jose_header["kid"]))
    except Exception as refusal:  # any refusal by the library: form, header, key or signature
        fail(f"jwcrypto does not verify the receipt: {refusal!r}")
    payload = json.loads(signed.payload)
    if payload["request_id"] != request_id:
        fail(f"the receipt names request {payload['request_id']}")
    if sorted(record["id"] for record in payload["records"]) != previewed:
        fail(f"the receipt's records are not the dry run's: {payload['records']}")
    if EMAIL in signed.payload.decode() or "Pia Platform" in signed.payload.decode():
        fail("the receipt holds the person's email or name")

    call = {
        "salesforce_id": preview["records"][0]["salesforce_id"][:15],
        "email": EMAIL.upper(),
        "direction": "inbound",
        "from_number": "001 415 555 0941",
        "to_number": "+1 628 555 0100",
        "started_at": "2026-12-03T10:00:00Z",
        "duration_seconds": 30,
    }
    refused = expect(api.post(f"{base}/api/v1/calls", json=call), 409, "application/problem+json")
    if refused["type"] != "/api/v1/problems/suppressed":
        fail(f"new activity of the erased person was not refused as suppressed: {refused}")

    listed = expect(api.get(f"{base}/api/v1/erasure-requests", params={"state": "completed"}), 200)
    if request_id not in [request["id"] for request in listed["requests"]]:
        fail("the completed request is not listed")

    sheet = io.StringIO()
    writer = csv.writer(sheet)
    writer.writerow(["name", "email"])
    writer.writerows([["Platform, Pia", EMAIL], ["Nobody", "nobody.at.all@example.org"], ["Formula", "=1+1"]])
    job = expect(api.post(f"{base}/api/v1/bulk-jobs", data=sheet.getvalue().encode(), headers={"Content-Type": "text/csv"}), 201)
    if job["confirmed_at"] is not None or job["persons"] != 0:
        fail(f"a dry run confirmed or found persons: {job}")
    rows = expect(api.get(f"{base}/api/v1/bulk-jobs/{job['id']}"), 200)["rows"]
    verdicts = [(row["line"], row["verdict"]) for row in rows]
    if verdicts != [(2, "suppressed"), (3, "not_found"), (4, "malformed")]:
        fail(f"unexpected bulk verdicts: {verdicts}")

    print(
        f"api_client_flow: request {request_id}: dry run, export checked with zipfile ({counts['records']} records, "
        f"{counts['calls']} calls, {counts['messages']} messages), request (one for two POSTs with one key), "
        f"receipt verified with jwcrypto (key {signed.jose_header['kid']}), new activity refused as suppressed, "
        f"bulk dry run {job['id']}: {', '.join(verdict for _, verdict in verdicts)}"
    )


if __name__ == "__main__":
    main()
