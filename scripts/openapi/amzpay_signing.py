"""Amazon Pay V2 request signing (spec section 9), for the schemathesis run: every request
schemathesis sends is signed here, over exactly the bytes that go on the wire.

AMZN-PAY-RSASSA-PSS-V2: RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt over
    ALG '\\n' hex(sha256(CanonicalRequest))
where CanonicalRequest is METHOD, canonical URI, canonical query, the signed headers
(`name:trimmed-value`, sorted), a blank line, their names joined by ';', and hex(sha256(body)).

`python3 amzpay_signing.py VECTORS.json PRIVATE_KEY.pem PUBLIC_KEY.pem` checks this module
against the shared vectors (canonical request and string to sign of each) and signs and
verifies one string with the vectors' key pair.
"""

import base64
import hashlib
import json
import sys
import time
from urllib.parse import quote, unquote, unquote_to_bytes, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ALGORITHM = "AMZN-PAY-RSASSA-PSS-V2"
# Salt length of the V2 algorithm (V1, AMZN-PAY-RSASSA-PSS, uses 20).
SALT_LENGTH = 32
# RFC 3986 unreserved characters besides letters and digits, which stay unencoded.
UNRESERVED = "-_.~"


def canonical_uri(raw_path):
    """Each segment of the path as sent is decoded, then encoded the canonical way."""
    if raw_path == "":
        return "/"
    return "/".join(quote(unquote_to_bytes(segment), safe=UNRESERVED) for segment in raw_path.split("/"))


def canonical_query(raw_query):
    """Names and values decoded (`+` is a literal plus), encoded, sorted, joined with `&`."""
    pairs = []
    for pair in raw_query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        decode = lambda text: unquote(text, errors="replace")
        pairs.append((quote(decode(name), safe=UNRESERVED), quote(decode(value), safe=UNRESERVED)))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_request(method, raw_path, raw_query, headers, signed_headers, body):
    lines = [method, canonical_uri(raw_path), canonical_query(raw_query)]
    lowered = {name.lower(): value for name, value in headers.items()}
    for name in sorted(signed_headers):
        lines.append(f"{name}:{str(lowered[name]).strip()}")
    lines.append("")
    lines.append(";".join(signed_headers))
    lines.append(hashlib.sha256(body).hexdigest())
    return "\n".join(lines)


def string_to_sign(canonical):
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"


def pss():
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=SALT_LENGTH)


def load_private_key(path):
    with open(path, "rb") as file:
        return serialization.load_pem_private_key(file.read(), password=None)


def amz_date(now=None):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


class Signer:
    """Signs requests for one key: sets the date, host and region headers, then
    `authorization`, over the URL, headers and body as they will be sent."""

    def __init__(self, public_key_id, private_key_path, region):
        self.public_key_id = public_key_id
        self.private_key = load_private_key(private_key_path)
        self.region = region

    def sign(self, method, url, headers, body):
        """`headers` is a mutable mapping (case-insensitive, as requests' is); `body` bytes."""
        parts = urlsplit(url)
        headers["accept"] = "application/json"
        headers["x-amz-pay-date"] = amz_date()
        headers["x-amz-pay-host"] = parts.netloc
        headers["x-amz-pay-region"] = self.region
        signed = ["accept", "content-type", "x-amz-pay-date", "x-amz-pay-host", "x-amz-pay-idempotency-key", "x-amz-pay-region"]
        signed = [name for name in signed if name in headers]
        canonical = canonical_request(method, parts.path, parts.query, dict(headers), signed, body or b"")
        signature = self.private_key.sign(string_to_sign(canonical).encode(), pss(), hashes.SHA256())
        headers["authorization"] = (
            f"{ALGORITHM} PublicKeyId={self.public_key_id}, SignedHeaders={';'.join(signed)}, "
            f"Signature={base64.b64encode(signature).decode()}"
        )


def check_vectors(vectors_path, private_key_path, public_key_path):
    """Exits non-zero unless every vector's canonical request and V2 string to sign match."""
    with open(vectors_path) as file:
        vectors = json.load(file)["request_vectors"]
    failures = 0
    for vector in vectors:
        # The vectors hold the decoded path and query; send them as a client would.
        raw_path = quote(vector["path"], safe="/" + UNRESERVED)
        raw_query = "&".join(
            f"{quote(name, safe=UNRESERVED)}={quote(value, safe=UNRESERVED)}"
            for name, values in vector["query_parameters"].items()
            for value in values
        )
        signed = sorted(vector["headers"])
        canonical = canonical_request(
            vector["method"], raw_path, raw_query, vector["headers"], signed, vector["payload"].encode()
        )
        if canonical != vector["canonical_request"] or string_to_sign(canonical) != vector["string_to_sign_v2"]:
            failures += 1
            print(f"vector {vector['name']}: mismatch\n{canonical!r}\n{vector['canonical_request']!r}")
    private_key = load_private_key(private_key_path)
    with open(public_key_path, "rb") as file:
        public_key = serialization.load_pem_public_key(file.read())
    message = vectors[-1]["string_to_sign_v2"].encode()
    public_key.verify(private_key.sign(message, pss(), hashes.SHA256()), message, pss(), hashes.SHA256())
    print(f"signing vectors: {len(vectors) - failures} passed, {failures} failed")
    return failures == 0


if __name__ == "__main__":
    sys.exit(0 if check_vectors(*sys.argv[1:4]) else 1)
