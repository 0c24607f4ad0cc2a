"""Schemathesis hooks for amzpay (loaded through SCHEMATHESIS_HOOKS by scripts/schemathesis).

Every request to the signed API is signed as an Amazon Pay client signs it, with the merchant
key named by AMZPAY_MERCHANT_FILE (the server's dev-merchant.json). It is signed at the last
moment, in the HTTP adapter, over the URL, headers and body bytes that are then sent, so that
whatever schemathesis generated (path ids, query, headers, JSON) the signature covers it.
The unsigned routes (`/healthz`, `/openapi.json`) are sent as they are.

Two generated values are replaced by what a real client would send, so that requests get
past them to the rules: a well-formed idempotency key becomes a fresh one (schemathesis
repeats its few generated keys across different bodies, which the server rightly refuses as
DuplicateIdempotencyKey), and Create Checkout Session's `storeId` becomes the merchant's.
"""

import json
import os
import re
import uuid

import requests.adapters

from amzpay_signing import Signer

with open(os.environ["AMZPAY_MERCHANT_FILE"]) as file:
    _merchant = json.load(file)

_signer = Signer(_merchant["publicKeyId"], _merchant["privateKeyFile"], _merchant["region"])
_send = requests.adapters.HTTPAdapter.send
# The keys the server accepts (crates/server/src/ops/mod.rs, check_idempotency_key).
_WELL_FORMED_KEY = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
IDEMPOTENCY_KEY = "x-amz-pay-idempotency-key"


def _is_api(url):
    return "/v2/" in requests.utils.urlparse(url).path


def _with_store_id(request):
    """Create Checkout Session's `storeId`, if the body has one, becomes the merchant's."""
    if request.method != "POST" or not requests.utils.urlparse(request.url).path.endswith("/v2/checkoutSessions"):
        return
    try:
        body = json.loads(request.body)
    except (TypeError, ValueError):
        return
    if isinstance(body, dict) and isinstance(body.get("storeId"), str):
        body["storeId"] = _merchant["storeId"]
        request.prepare_body(data=None, files=None, json=body)


def _signed_send(self, request, *args, **kwargs):
    if _is_api(request.url):
        _with_store_id(request)
        key = request.headers.get(IDEMPOTENCY_KEY)
        if key is not None and _WELL_FORMED_KEY.match(key.strip()):
            request.headers[IDEMPOTENCY_KEY] = uuid.uuid4().hex
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        _signer.sign(request.method, request.url, request.headers, body)
    return _send(self, request, *args, **kwargs)


requests.adapters.HTTPAdapter.send = _signed_send

