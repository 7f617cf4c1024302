"""The comparison quoted in structured-output.md ("Choices"): run in a venv with msgspec,
cattrs, pydantic, jiter and partial-json-parser, and chat_image importable."""
import dataclasses, json, math, timeit, typing
from decimal import Decimal
import attrs
import msgspec, cattrs, jiter, partial_json_parser
from pydantic import TypeAdapter, ValidationError
from chat_image._structured.convert import compile_type
from chat_image._structured.partial import PartialJSON

@dataclasses.dataclass
class Item:
    name: str
    qty: int
    price: float

@dataclasses.dataclass
class Receipt:
    merchant: str
    total: float
    items: list[Item]

@attrs.define
class AItem:
    name: str
    qty: int
    price: float

@attrs.define
class AReceipt:
    merchant: str
    total: float
    items: list[AItem]

class TItem(typing.TypedDict):
    name: str
    qty: int
    price: float

class TReceipt(typing.TypedDict):
    merchant: str
    total: float
    items: list[TItem]

good = {"merchant": "Acme", "total": 123.45, "items": [{"name": f"item {i}", "qty": i + 1, "price": 1.5 + i} for i in range(30)]}
good_text = json.dumps(good)
bad = json.loads(good_text); bad["items"][3]["qty"] = 2.7; bad["items"][7]["price"] = "x"; bad["total"] = None
bad_text = json.dumps(bad)
nan_text = good_text.replace("123.45", "NaN")

def ours(tp):
    conv = compile_type(tp)
    def run(text):
        problems = []
        v = conv(json.loads(text), "", problems)
        return v, [str(p) for p in problems]
    return run

def chosen(tp):
    from chat_image._structured.target import prepare
    from chat_image._structured.extract import candidates
    target = prepare(tp)
    def run(text):
        if target.decode is not None:
            try: return target.decode(text), []
            except Exception: pass
        data = candidates(text)[0]
        v, problems = target.convert(data)
        return v, [str(p) for p in problems]
    return run

def ms(tp):
    dec = msgspec.json.Decoder(tp)
    def run(text):
        try: return dec.decode(text), []
        except msgspec.ValidationError as e: return None, [str(e)]
        except msgspec.DecodeError as e: return None, [str(e)]
    return run

def ca(tp):
    conv = cattrs.Converter(detailed_validation=True)
    def run(text):
        try: return conv.structure(json.loads(text), tp), []
        except Exception as e:
            return None, cattrs.transform_error(e) if isinstance(e, cattrs.BaseValidationError) else [repr(e)]
    return run

def pyd(tp):
    ad = TypeAdapter(tp)
    def run(text):
        try: return ad.validate_json(text), []
        except ValidationError as e: return None, [f"{e_['loc']}: {e_['msg']}" for e_ in e.errors()]
    return run

rows = []
for kind, tp in (("dataclass", Receipt), ("attrs", AReceipt), ("TypedDict", TReceipt)):
    for lib, make in (("ours", ours), ("chosen: msgspec, then ours on refusal", chosen), ("msgspec", ms), ("cattrs", ca), ("pydantic TypeAdapter", pyd)):
        try:
            run = make(tp)
        except Exception as e:
            rows.append((kind, lib, "unsupported: " + type(e).__name__, "", "", "")); continue
        try:
            v, errs = run(good_text)
            assert not errs, errs
        except Exception as e:
            rows.append((kind, lib, "fails: " + repr(e)[:60], "", "", "")); continue
        t = min(timeit.repeat(lambda: run(good_text), number=2000, repeat=5)) / 2000 * 1e6
        v27 = json.loads(good_text); v27["items"][0]["qty"] = 2.7
        v, errs27 = run(json.dumps(v27))
        strict27 = "refused" if errs27 else f"accepted -> {v['items'][0]['qty'] if isinstance(v, dict) else v.items[0].qty!r}"
        try:
            v, errsnan = run(nan_text)
            strictnan = "refused" if errsnan else "accepted"
        except Exception as e:
            strictnan = "refused (" + type(e).__name__ + ")"
        v, errsbad = run(bad_text)
        rows.append((kind, lib, f"{t:.1f}", strict27, strictnan, f"{len(errsbad)} of 3"))
print("| type | library | parse+validate µs (30 items, 1.2 KB) | qty: 2.7 | total: NaN | problems reported (3 planted) |")
print("|---|---|---|---|---|---|")
for r in rows: print("| " + " | ".join(r) + " |")

# Partial JSON
text = json.dumps({"merchant": "Acme", "total": 150, "ok": True, "items": [{"name": f"item {i}", "qty": i + 10, "price": 1.25 + i} for i in range(30)]})
pieces = [text[i:i+4] for i in range(0, len(text), 4)]
def check(fn):
    """Fraction of prefixes where a number is shown different from its final value, an unfinished key shows, or a key disappears."""
    final = json.loads(text)
    wrong_number = unfinished_key = lost_key = 0
    seen_keys = set()
    for i in range(1, len(text) + 1):
        try: v = fn(text[:i])
        except Exception: v = None
        if not isinstance(v, dict): continue
        for k, val in v.items():
            if k not in final: unfinished_key += 1
            elif isinstance(val, (int, float)) and not isinstance(val, bool) and val != final[k]: wrong_number += 1
        if seen_keys - set(v): lost_key += 1
        seen_keys |= set(v)
    return wrong_number, unfinished_key, lost_key
def ours_prefix(t):
    p = PartialJSON(); p.feed(t); return p.value
def jiter_prefix(t):
    return jiter.from_json(t.encode(), partial_mode="trailing-strings")
def pjp_prefix(t):
    return partial_json_parser.loads(t)
print()
print("| partial parser | wrong numbers shown | unfinished keys shown | keys lost | per-chunk µs (4-char deltas, 1.5 KB) |")
print("|---|---|---|---|---|")
def ours_stream():
    p = PartialJSON()
    for piece in pieces:
        p.feed(piece); p.value
def jiter_stream():
    buf = ""
    for piece in pieces:
        buf += piece
        try: jiter.from_json(buf.encode(), partial_mode="trailing-strings")
        except ValueError: pass
def pjp_stream():
    buf = ""
    for piece in pieces:
        buf += piece
        try: partial_json_parser.loads(buf)
        except Exception: pass
for name, fn, stream in (("ours", ours_prefix, ours_stream), ("jiter 0.19 partial_mode=trailing-strings", jiter_prefix, jiter_stream), ("partial-json-parser 0.2.1", pjp_prefix, pjp_stream)):
    w, u, l = check(fn)
    t = min(timeit.repeat(stream, number=20, repeat=5)) / 20 / len(pieces) * 1e6
    print(f"| {name} | {w} | {u} | {l} | {t:.1f} |")
