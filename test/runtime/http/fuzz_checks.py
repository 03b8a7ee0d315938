# Checks of the Enoki API fuzz (test/runtime/http/fuzz.test.ts), loaded through SCHEMATHESIS_HOOKS
# (a Python module, hence its name in snake_case).
#
# schemathesis's own not_a_server_error fails every 5xx. A node legitimately answers 5xx when a
# function fails (500 ERR_GUEST_*, 504 ERR_TIMEOUT, ...) or it is overloaded (503 ERR_OVERLOADED):
# such an answer carries its code in X-Enoki-Error-Code, and the test passes the codes that may
# appear (ENOKI_FUZZ_ALLOWED_5XX, derived from runtime/errors.ts). Any other 5xx — 500
# ERR_INTERNAL above all, or a 5xx without a code — is a fault of the node caused by the input.

import json
import os

import schemathesis

ALLOWED = set(json.loads(os.environ.get("ENOKI_FUZZ_ALLOWED_5XX", "[]")))


@schemathesis.check
def no_node_fault(ctx, response, case):
    """A 5xx answer is a coded failure of a function or of the node's load, never one caused by the request."""
    if response.status_code < 500:
        return None
    codes = response.headers.get("x-enoki-error-code") or []
    code = codes[0] if codes else None
    if code in ALLOWED:
        return None
    body = response.content[:500].decode("utf-8", "replace")
    raise AssertionError(f"{response.status_code} {code or 'without an error code'} for the client's input: {body}")
