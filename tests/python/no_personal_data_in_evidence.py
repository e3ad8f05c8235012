#!/usr/bin/env python3
"""Checks that the evidence and the console's log hold no personal data of the people in its database.

Usage:
  no_personal_data_in_evidence.py collect DATABASE_URL PERSONS_FILE
      before the browser specs run: writes every customer's and user's email, name and phone numbers, and the
      text of every message, note and transcript (at least 12 characters long), to PERSONS_FILE (JSON).
  no_personal_data_in_evidence.py scan DATABASE_URL PERSONS_FILE LOG_FILE
      after them (the specs erase records, make requests, sign in and out, search and view pages): looks for
      each of those details, case-insensitively, in the evidence tables (`audit_log`, `audit_heads`, `erasures`,
      `erasure_requests` with the decoded payload of every signed receipt, `erasure_request_records`) and in
      the console's log output LOG_FILE. Exits non-zero naming what was found where, or when there is no
      evidence to scan (no audit entry, erasure or receipt), which would make the check empty.

Reads the database with psql (on PATH), as scripts/test does.
"""

import base64
import json
import subprocess
import sys

# Shorter texts (a message saying "Thanks!") could occur in evidence by chance, as part of an id or a word.
MIN_TEXT_LENGTH = 12


def psql_lines(database_url, sql):
    """The rows of `sql`, one text value per line (NULLs skipped)."""
    out = subprocess.run(
        ["psql", database_url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line for line in out.split("\n") if line.strip()]


def collect(database_url, persons_file):
    details = set()
    for sql in [
        "select email from customers where email is not null",
        "select name from customers",
        "select phone from customers where phone is not null",
        "select phone_e164 from customers where phone_e164 is not null",
        "select email from users",
        "select name from users",
    ]:
        details.update(line.strip() for line in psql_lines(database_url, sql))
    texts = set()
    for sql in [
        "select body from messages",
        "select notes from calls where notes is not null",
        "select transcript from calls where transcript is not null",
    ]:
        texts.update(
            line.strip() for line in psql_lines(database_url, sql) if len(line.strip()) >= MIN_TEXT_LENGTH
        )
    details = sorted(d for d in details if len(d) >= 4)
    if not any("@" in d for d in details):
        sys.exit("no_personal_data_in_evidence: no emails found to look for; is the database seeded?")
    with open(persons_file, "w", encoding="utf-8") as f:
        json.dump({"details": details, "texts": sorted(texts)}, f)
    print(f"collected {len(details)} emails, names and phone numbers and {len(texts)} texts")


def receipt_payloads(tokens):
    payloads = []
    for token in tokens:
        parts = token.split(".")
        if len(parts) != 3:
            sys.exit(f"no_personal_data_in_evidence: a stored receipt is not a compact JWS: {token[:40]}")
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        payloads.append(base64.urlsafe_b64decode(payload).decode("utf-8"))
    return payloads


def scan(database_url, persons_file, log_file):
    with open(persons_file, encoding="utf-8") as f:
        persons = json.load(f)
    audit_rows = psql_lines(database_url, "select t::text from audit_log t")
    sources = {
        "audit_log": "\n".join(audit_rows),
        "audit_heads": "\n".join(psql_lines(database_url, "select t::text from audit_heads t")),
        "erasures": "\n".join(psql_lines(database_url, "select t::text from erasures t")),
        "erasure_requests": "\n".join(psql_lines(database_url, "select t::text from erasure_requests t")),
        "erasure_request_records": "\n".join(
            psql_lines(database_url, "select t::text from erasure_request_records t")
        ),
    }
    tokens = psql_lines(database_url, "select receipt_jws from erasure_requests where receipt_jws is not null")
    sources["receipts"] = "\n".join(receipt_payloads(tokens))
    with open(log_file, encoding="utf-8", errors="replace") as f:
        sources["the console's log"] = f.read()

    erasures = len(psql_lines(database_url, "select id from erasures"))
    if not audit_rows or erasures == 0 or not tokens:
        sys.exit(
            "no_personal_data_in_evidence: nothing to scan "
            f"({len(audit_rows)} audit entries, {erasures} erasures, {len(tokens)} receipts)"
        )

    found = []
    lowered = {name: text.lower() for name, text in sources.items()}
    for detail in persons["details"] + persons["texts"]:
        needle = detail.lower()
        for name, text in lowered.items():
            if needle in text:
                found.append(f"{detail!r} in {name}")
    if found:
        print("no_personal_data_in_evidence: FAILED: personal data found:", file=sys.stderr)
        for line in found[:50]:
            print(f"  {line}", file=sys.stderr)
        sys.exit(1)
    size = sum(len(text) for text in sources.values())
    print(
        f"none of {len(persons['details'])} emails, names and phone numbers and {len(persons['texts'])} texts "
        f"found in {len(audit_rows)} audit entries, {erasures} erasures, {len(tokens)} receipts and "
        f"the console's log ({size} characters in all)"
    )


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "collect":
        collect(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "scan":
        scan(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
