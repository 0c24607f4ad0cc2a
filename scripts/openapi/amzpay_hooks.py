"""Schemathesis hooks for amzpay (loaded through SCHEMATHESIS_HOOKS by scripts/schemathesis).

Every request to the signed API is signed as an Amazon Pay client signs it, with the merchant
key named by AMZPAY_MERCHANT_FILE (the server's dev-merchant.json). It is signed at the last
moment, in the HTTP adapter, over the URL, headers and body bytes that are then sent, so that
whatever schemathesis generated (path ids, query, headers, JSON) the signature covers it.
The unsigned routes (`/healthz`, `/openapi.json`, the hosted pages) are sent as they are.
"""

import json
import os

import requests.adapters

from amzpay_signing import Signer

with open(os.environ["AMZPAY_MERCHANT_FILE"]) as file:
    _merchant = json.load(file)

_signer = Signer(_merchant["publicKeyId"], _merchant["privateKeyFile"], _merchant["region"])
_send = requests.adapters.HTTPAdapter.send


def _is_api(url):
    path = requests.utils.urlparse(url).path
    return "/v2/" in path


def _signed_send(self, request, *args, **kwargs):
    if _is_api(request.url):
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        _signer.sign(request.method, request.url, request.headers, body)
    return _send(self, request, *args, **kwargs)


requests.adapters.HTTPAdapter.send = _signed_send
