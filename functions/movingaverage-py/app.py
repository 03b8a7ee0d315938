"""movingaverage-py: the Enoki paper's benchmark function in Python, the language it was written
in (OpenFogStack/enoki functions/4_movingaverage/fn.py), against the enoki:faas `function` world.

It answers exactly as the JavaScript port (functions/movingaverage/movingaverage.js) does, bug
fix included: body "{thread}-{value}" (or just "{value}"); each thread t keeps a ring of WINDOW
values under ids p0..p9, where p is the letter chr(t + ord('b')), and a pointer "aaaacurr" + p
holding the id of the next slot to write. One call is 4 KV operations: get the pointer, scan the
ring, set the slot, set the pointer (a first call also sets the pointer once when it is missing).
"""

import json
import math
import re

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.handler import Request, Response
from wit_world.imports import kv, log

POINTER = "aaaacurr"
PREFIX = "data"
WINDOW = 10

THREADED = re.compile(r"\s*([+-]?[0-9]+)-([+-]?[0-9]+)\s*")
PLAIN = re.compile(r"\s*([+-]?[0-9]+)\s*")
ID_LETTER = re.compile(r"[a-zA-Z0-9]")
DIGITS = re.compile(r"[0-9]+")


def text(status: int, body: str) -> Response:
    return Response(status, [("content-type", "text/plain; charset=utf-8")], body.encode("utf-8", "surrogatepass"))


def kv_error(e: Err) -> str:
    """A failed KV call raises Err(kv-error): KvError_NotFound("x") reads "not-found: x"."""
    variant = type(e.value).__name__.split("_", 1)[-1]
    tag = re.sub(r"(?<!^)(?=[A-Z])", "-", variant).lower()
    return f"{tag}: {e.value.value}"


def js_json(value: str) -> str:
    """JSON.stringify of a string: non-ASCII kept as it is, a lone surrogate escaped."""
    return "".join(
        f"\\u{ord(ch):04x}" if 0xD800 <= ord(ch) <= 0xDFFF else json.dumps(ch, ensure_ascii=False)[1:-1] for ch in value
    ).join('""')


def js_number(x: float) -> str:
    """A number as JavaScript's String() writes it: 5, 5.5, NaN."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == int(x) and abs(x) < 1e21:
        return str(int(x))
    return repr(x)


def to_number(value: str) -> float:
    """Number(value) for the values a ring holds (decimal integers; anything else is NaN)."""
    try:
        return float(int(value.strip()))
    except ValueError:
        return math.nan


def parse_input(body: str):
    """(pointer, prefix, value), or a string saying what is wrong with the body."""
    threaded = THREADED.fullmatch(body)
    if threaded:
        # String.fromCharCode keeps the low 16 bits, as the JavaScript port does.
        p = chr((int(threaded.group(1)) + ord("b")) % 0x10000)
        if not ID_LETTER.fullmatch(p):
            return f"thread {threaded.group(1)} gives the id letter {js_json(p)}: use threads 0 to 24"
        return (POINTER + p, p, int(threaded.group(2)))
    plain = PLAIN.fullmatch(body)
    if plain:
        return (POINTER, PREFIX, int(plain.group(1)))
    return f'expected a body "{{thread}}-{{value}}" or "{{value}}" with integers, got {js_json(body[:40])}'


class Handler(exports.Handler):
    def handle(self, req: Request) -> Response:
        parsed = parse_input(bytes(req.body).decode("utf-8", "replace"))
        if isinstance(parsed, str):
            return text(400, parsed + "\n")
        pointer, prefix, value = parsed

        # (1) The pointer's value is prefix + the slot to write next. The original read it with
        # kv.read and took the first sibling; `get` picks the sibling every replica agrees on.
        curr = None
        try:
            stored = kv.get(pointer)
            slot = stored[len(prefix):] if stored is not None and stored.startswith(prefix) else ""
            if DIGITS.fullmatch(slot):
                curr = int(slot)
        except Err as e:
            log.write(log.Level.WARN, f"could not read pointer {pointer}: {kv_error(e)}")
        if curr is None:
            # No pointer yet (or an unreadable one): start the ring over, as the original did.
            try:
                kv.set(pointer, prefix + "0")
            except Err as e:
                log.write(log.Level.ERROR, f"failed to update pointer {pointer} to {prefix}0: {kv_error(e)}")
            curr = 0
        if curr >= WINDOW:
            curr = 0

        # (2) The ring's values. `scan` needs an existing start id: before the first write there
        # is no prefix0 (not-found), which is "no values yet", like the original's exception path.
        # Only ids of the form prefix + digits belong to this ring (the original's bug took the
        # next thread's ids too while the ring was short).
        values = []
        try:
            ring = re.compile(re.escape(prefix) + r"[0-9]+")
            values = [to_number(entry.value) for entry in kv.scan(prefix + "0", WINDOW) if ring.fullmatch(entry.id)]
        except Err as e:
            if type(e.value).__name__ != "KvError_NotFound":
                log.write(log.Level.WARN, f"failed to scan {WINDOW} values from {prefix}0: {kv_error(e)}")

        # Put the new value at slot curr, or append it when the ring is shorter than that.
        if len(values) > curr:
            values[curr] = float(value)
        else:
            values.append(float(value))
        mean = sum(values) / len(values)  # left to right, as JavaScript's reduce

        # (3) Store the value in its slot, (4) advance the pointer.
        try:
            kv.set(prefix + str(curr), str(value))
        except Err as e:
            log.write(log.Level.ERROR, f"failed to write value {value} to {prefix}{curr}: {kv_error(e)}")
        try:
            kv.set(pointer, prefix + str(curr + 1))
        except Err as e:
            log.write(log.Level.ERROR, f"failed to update pointer {pointer} to {prefix}{curr + 1}: {kv_error(e)}")

        return text(200, js_number(mean))
