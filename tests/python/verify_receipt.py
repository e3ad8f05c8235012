#!/usr/bin/env python3
"""Verifies an erasure receipt of a running console with jwcrypto, a JOSE library this project did not write.

Usage: verify_receipt.py BASE_URL (e.g. http://127.0.0.1:3100, a console seeded with the demo data and
end2end/fixtures.sql, with a receipt signing key).

Signs in as Alex (demo Admin), gives Alex Manage Customer Data under a policy that erases at once, erases the fixture record "Quinn Receipt" (or,
when it is erased already, takes its request), waits for the request's receipt, downloads it and the public
keys (/.well-known/receipt-keys.json), and checks with jwcrypto that the receipt verifies, names its request,
reports a clean residual check and holds none of the record's personal data; then that a copy with any single
byte of its header, payload or signature changed is rejected. Exits non-zero with the reason otherwise.
"""

import base64
import http.cookiejar
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from jwcrypto import jwk, jws

ALEX = "alex.admin@acme.example"
PASSWORD = "demo-password"
RECORD_EMAIL = "quinn.receipt@example.com"
PERSONAL = [RECORD_EMAIL, "Quinn Receipt", "+14155550888", "receipt probe message"]
WAIT_SECONDS = 60


def fail(message):
    print(f"verify_receipt: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


class Console:
    """The console at `base`, called as its own pages call it (same origin), keeping the session cookie."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def post(self, path, form):
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": self.base,
                "Sec-Fetch-Site": "same-origin",
            },
            method="POST",
        )
        try:
            with self.opener.open(request) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            fail(f"POST {path} answered {error.code}: {error.read()[:300]!r}")

    def get(self, path):
        """The status and body of a GET (404 answered, not raised)."""
        try:
            with self.opener.open(self.base + path) as answer:
                return answer.status, answer.read(), answer.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers


def decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def verifies(token, keys):
    """Whether jwcrypto accepts the compact JWS `token` under the key its header names in `keys`."""
    try:
        signed = jws.JWS()
        signed.allowed_algs = ["EdDSA"]
        signed.deserialize(token)
        key = keys.get_key(signed.jose_header["kid"])
        if key is None:
            return False
        signed.verify(key, alg="EdDSA")
        return True
    except Exception:  # any refusal by the library: bad form, header, key or signature
        return False


def receipt_request(console):
    """The request that erased the fixture record, erasing it first when it is not yet erased."""
    found = console.post("/api/customers/search", {"query": RECORD_EMAIL})
    records = found.get("records") or []
    if len(records) != 1:
        fail(f"the fixture record {RECORD_EMAIL} is not in the demo data: {found}")
    record = records[0]
    if not record.get("erased_at"):
        answer = console.post(
            "/api/customers/erase", {"customer_id": record["id"], "confirmation": "DELETE"}
        )
        return answer["request_id"]
    detail = console.post("/api/customers/detail", {"customer_id": record["id"]})
    return detail["receipt"]["request_id"]


def main():
    if len(sys.argv) != 2:
        fail("usage: verify_receipt.py BASE_URL")
    console = Console(sys.argv[1])
    console.post("/api/auth/login", {"email": ALEX, "password": PASSWORD})
    console.post("/api/settings/customer-data", {"enabled": "true"})
    alex = console.post("/api/users/search", {"query": ALEX})["users"][0]["id"]
    console.post("/api/users/customer-data-permission", {"user_id": alex, "enabled": "true"})
    # Erased at once: no hold, no approval (the browser specs may have left another policy).
    console.post(
        "/api/settings/erasure-policy",
        {"hold_hours": "0", "deadline_days": "30", "approval_min_records": "", "approval_min_items": ""},
    )
    request_id = receipt_request(console)

    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        status, body, headers = console.get(f"/requests/{request_id}/receipt.jws")
        if status == 200:
            break
        if status != 404 or time.monotonic() > deadline:
            fail(f"no receipt for request {request_id} (last answer {status})")
        time.sleep(0.5)
    if headers.get("Content-Type") != "application/jose":
        fail(f"the receipt's content type is {headers.get('Content-Type')!r}")
    token = body.decode().strip()

    status, jwks_body, _ = Console(sys.argv[1]).get("/.well-known/receipt-keys.json")
    if status != 200:
        fail(f"/.well-known/receipt-keys.json answered {status}")
    keys = jwk.JWKSet.from_json(jwks_body)
    for key in json.loads(jwks_body)["keys"]:
        if (key.get("kty"), key.get("crv"), key.get("alg"), key.get("use")) != ("OKP", "Ed25519", "EdDSA", "sig"):
            fail(f"an unexpected key in the key set: {key}")

    if not verifies(token, keys):
        fail("jwcrypto does not verify the receipt")
    header = json.loads(decode(token.split(".")[0]))
    if set(header) != {"alg", "kid"} or header["alg"] != "EdDSA":
        fail(f"unexpected header {header}")
    payload_text = decode(token.split(".")[1]).decode()
    payload = json.loads(payload_text)
    if payload["request_id"] != request_id:
        fail(f"the receipt names request {payload['request_id']}, not {request_id}")
    residual = payload["residual_check"]
    if (
        residual["objects_left"] != 0
        or residual["data_keys_left"] != 0
        or any(table["rows"] for table in residual["tables"])
    ):
        fail(f"the residual check found data left: {residual}")
    keys = payload["stores"]["keys"]
    if keys["destroyed"] + keys["never_made"] != len(payload["records"]) or (
        keys["destroyed"] > 0 and not keys["destroyed_at"]
    ):
        fail(f"the receipt does not account for every record's data key: {keys}")
    for detail in PERSONAL:
        if detail.lower() in payload_text.lower():
            fail(f"the receipt holds personal data: {detail}")

    parts = [decode(part) for part in token.split(".")]
    tried = 0
    for index, name in enumerate(["header", "payload", "signature"]):
        for position in range(len(parts[index])):
            changed = [bytearray(part) for part in parts]
            changed[index][position] ^= 0x01
            forged = ".".join(encode(bytes(part)) for part in changed)
            if verifies(forged, keys):
                fail(f"jwcrypto accepted the receipt with byte {position} of its {name} changed")
            tried += 1

    print(
        f"verify_receipt: request {request_id}: jwcrypto verified the receipt (key {header['kid']}) "
        f"and rejected all {tried} copies with one byte changed"
    )


if __name__ == "__main__":
    main()
