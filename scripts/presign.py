#!/usr/bin/env python3
"""Pre-signed amzpay requests for an independent load generator (wrk).

`amzpay bench` is amzpay's own generator; this script lets a generator written apart from
amzpay (wrk, https://github.com/wg/wrk, from Debian's `wrk` package) send the same signed
load, so the generator's own cost can be told from the server's (docs/performance.md).

It signs as a merchant file's key (the development merchant of a data directory), makes
what the requests need through the sandbox test helpers, signs every request before
anything is timed, and writes them for scripts/wrk-presigned.lua, one request a line
(the raw HTTP/1.1 request, JSON-escaped):

    scripts/presign.py --url http://127.0.0.1:8080 --merchant-file DIR/dev-merchant.json \\
        --scenario create-charge --count 100000 --out /tmp/requests.jsonl
    wrk -t2 -c64 -d10s -s scripts/wrk-presigned.lua http://127.0.0.1:8080 -- /tmp/requests.jsonl 2

Scenarios: `create-charge` (Create Charge, captureNow true, one idempotency key each, 25
charges of USD 1.00 on each one-time permission made beforehand, as `amzpay bench` does)
and `get-charge` (Get Charge over 1,000 charges made beforehand, round-robin).

Signing follows Amazon's AMZN-PAY-RSASSA-PSS-V2 (spec/amazon-pay-v2.md, "Signing"): needs
the `cryptography` package (PyPI) for RSASSA-PSS; signatures are good for 15 minutes.
"""

import argparse
import base64
import concurrent.futures
import datetime
import hashlib
import json
import os
import sys
import urllib.parse
import urllib.request
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ALGORITHM = "AMZN-PAY-RSASSA-PSS-V2"
# A one-time permission's limit is USD 25.00: 25 charges of USD 1.00 each.
CHARGES_PER_PERMISSION = 25
GET_CHARGE_POOL = 1000


class Signer:
    def __init__(self, merchant_file, url):
        with open(merchant_file) as source:
            merchant = json.load(source)
        with open(merchant["privateKeyFile"], "rb") as pem:
            self.key = serialization.load_pem_private_key(pem.read(), password=None)
        self.public_key_id = merchant["publicKeyId"]
        self.store_id = merchant["storeId"]
        parsed = urllib.parse.urlsplit(url)
        self.url = url.rstrip("/")
        self.host = parsed.netloc
        self.region = "us"

    def headers(self, method, path, body, extra=()):
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "x-amz-pay-date": date,
            "x-amz-pay-host": self.host,
            "x-amz-pay-region": self.region,
        }
        headers.update(extra)
        names = sorted(headers)
        canonical = "\n".join([
            method, path, "",
            *(f"{name}:{headers[name]}" for name in names), "",
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ])
        to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = self.key.sign(
            to_sign.encode(),
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256())
        headers["authorization"] = (
            f"{ALGORITHM} PublicKeyId={self.public_key_id}, SignedHeaders={';'.join(names)}, "
            f"Signature={base64.b64encode(signature).decode()}")
        return headers

    def raw(self, method, path, body=b"", extra=()):
        headers = self.headers(method, path, body, extra)
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"content-length: {len(body)}")
        return "\r\n".join(lines) + "\r\n\r\n" + body.decode()

    def send(self, method, path, body=b"", extra=()):
        request = urllib.request.Request(self.url + path, data=body or None, method=method,
                                         headers=self.headers(method, path, body, extra))
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)


def new_permission(signer):
    body = json.dumps({
        "chargePermissionType": "OneTime",
        "amountLimit": {"amount": "25.00", "currencyCode": "USD"},
    }).encode()
    key = {"x-amz-pay-idempotency-key": uuid.uuid4().hex}
    return signer.send("POST", "/v2/testHelpers/chargePermissions", body, key)["chargePermissionId"]


def create_charge_body(permission_id, capture_now=True):
    return json.dumps({
        "chargePermissionId": permission_id,
        "chargeAmount": {"amount": "1.00", "currencyCode": "USD"},
        "captureNow": capture_now,
        "canHandlePendingAuthorization": False,
    }).encode()


def sign_create_charges(args, permission_ids):
    signer = Signer(args.merchant_file, args.url)
    out = []
    for permission_id in permission_ids:
        body = create_charge_body(permission_id)
        for _ in range(CHARGES_PER_PERMISSION):
            key = uuid.uuid4().hex
            out.append(signer.raw("POST", "/v2/charges", body, {"x-amz-pay-idempotency-key": key}))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--merchant-file", required=True)
    parser.add_argument("--scenario", choices=["create-charge", "get-charge"], required=True)
    parser.add_argument("--count", type=int, default=100_000, help="requests to sign")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    signer = Signer(args.merchant_file, args.url)
    if args.scenario == "create-charge":
        permissions = [new_permission(signer) for _ in range(-(-args.count // CHARGES_PER_PERMISSION))]
        workers = os.cpu_count() or 1
        shares = [permissions[i::workers] for i in range(workers)]
        with concurrent.futures.ProcessPoolExecutor(workers) as pool:
            requests = [r for share in pool.map(sign_create_charges, [args] * workers, shares) for r in share]
    else:
        charge_ids = []
        while len(charge_ids) < GET_CHARGE_POOL:
            permission_id = new_permission(signer)
            for _ in range(CHARGES_PER_PERMISSION):
                charge = signer.send("POST", "/v2/charges", create_charge_body(permission_id),
                                     {"x-amz-pay-idempotency-key": uuid.uuid4().hex})
                charge_ids.append(charge["chargeId"])
        # A signature is good for 15 minutes: each charge's Get is signed once and repeated.
        requests = [signer.raw("GET", f"/v2/charges/{charge_id}") for charge_id in charge_ids]
    with open(args.out, "w") as out:
        for request in requests:
            out.write(json.dumps(request) + "\n")
    print(f"{len(requests)} {args.scenario} requests signed into {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
