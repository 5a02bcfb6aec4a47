"""What an answer returned, as plain data that can leave the kernel: no pickle, nothing that runs on reading.

A value is encoded as JSON-able data (``encode``) and rebuilt from it (``decode``) by the grader, outside the
sandbox, where it is judged. A plain tensor travels as its dtype, shape and bytes; numbers, ``None``, strings and
tuples or lists of them as themselves; anything else as its type's name and a capped ``repr`` (enough for a
message, never for a pass); an exception the answer raised as its type's name and message. Whatever the kernel
sends, ``decode`` either rebuilds one of those or raises ``BadValue``.
"""

import base64
import math
from dataclasses import dataclass

import torch

from .checks import TENSOR_TYPES

MAX_TENSOR_BYTES = 1 << 20  # a larger tensor is sent as its shape and dtype only: no exercise returns one
MAX_TEXT = 2_000  # characters of a string, repr or error message
MAX_ITEMS = 64  # elements of a tuple or list
MAX_DEPTH = 4

DTYPES = {str(dtype).removeprefix("torch."): dtype for dtype in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128, torch.uint8,
    torch.int8, torch.int16, torch.int32, torch.int64, torch.bool)}


class BadValue(ValueError):
    """The kernel sent something that is not an encoded value."""


@dataclass(frozen=True)
class Raised:
    """The answer raised instead of returning: the exception's type name and message."""

    type: str
    message: str


@dataclass(frozen=True)
class Opaque:
    """A value that is none of the plain kinds: what it was called and how it printed, nothing to compare."""

    type: str
    repr: str

    def __repr__(self) -> str:
        return self.repr


@dataclass(frozen=True)
class TooLarge:
    """A tensor over ``MAX_TENSOR_BYTES``: its shape and dtype, not its values."""

    shape: tuple[int, ...]
    dtype: str

    def __repr__(self) -> str:
        return f"a tensor of shape {self.shape} and dtype {self.dtype}, too large to judge"


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def _printed(value) -> str:
    try:
        return _cut(repr(value))
    except Exception:  # a repr that raises still must not stop the record
        return "<a value whose repr raised>"


def _tensor(value: torch.Tensor) -> dict:
    plain = torch.Tensor.detach(value)
    dtype = str(plain.dtype).removeprefix("torch.")
    shape = list(plain.shape)
    if dtype not in DTYPES or plain.is_sparse or plain.device.type != "cpu":
        return {"kind": "other", "type": type(value).__name__, "repr": _printed(value)}
    if plain.numel() * plain.element_size() > MAX_TENSOR_BYTES:
        return {"kind": "too large", "shape": shape, "dtype": dtype}
    flat = plain.contiguous().reshape(-1)
    raw = flat.view(torch.int16) if flat.dtype == torch.bfloat16 else flat  # numpy has no bfloat16
    return {"kind": "tensor", "dtype": dtype, "shape": shape,
            "data": base64.b64encode(raw.resolve_conj().numpy().tobytes()).decode()}


def encode(value, depth: int = 0) -> dict:
    """``value`` as plain data (see the module's docstring)."""
    kind = type(value)
    if kind in TENSOR_TYPES:
        return _tensor(value)
    if value is None:
        return {"kind": "none"}
    if kind in (bool, int, float, str):
        # JSON has no nan or inf; a float is sent as its repr, which float() reads back exactly.
        shown = repr(value) if kind is float else (_cut(value) if kind is str else value)
        return {"kind": kind.__name__, "value": shown}
    if kind is Raised:
        return {"kind": "raised", "type": _cut(value.type), "message": _cut(value.message)}
    if kind in (tuple, list) and depth < MAX_DEPTH and len(value) <= MAX_ITEMS:
        return {"kind": kind.__name__, "items": [encode(item, depth + 1) for item in value]}
    return {"kind": "other", "type": _cut(kind.__name__), "repr": _printed(value)}


def _text(data: dict, key: str, longest: int = MAX_TEXT + 1) -> str:
    text = data.get(key)
    if type(text) is not str or len(text) > longest:
        raise BadValue(f"{key} is not a string of at most {longest} characters")
    return text


def _shape(data: dict) -> tuple[int, ...]:
    shape = data.get("shape")
    if type(shape) is not list or len(shape) > 8 or not all(type(n) is int and n >= 0 for n in shape):
        raise BadValue("a tensor's shape is not a list of sizes")
    return tuple(shape)


def _decode_tensor(data: dict) -> torch.Tensor:
    dtype, shape = DTYPES.get(data.get("dtype")), _shape(data)
    if dtype is None:
        raise BadValue(f"unknown dtype {data.get('dtype')!r}")
    try:
        raw = base64.b64decode(_text(data, "data", longest=2 * MAX_TENSOR_BYTES), validate=True)
    except ValueError:
        raise BadValue("a tensor's data is not base64") from None
    element = torch.empty((), dtype=dtype).element_size()
    if len(raw) != math.prod(shape) * element or len(raw) > MAX_TENSOR_BYTES:
        raise BadValue(f"{len(raw)} bytes for a tensor of shape {shape} and dtype {data['dtype']}")
    stored = torch.int16 if dtype == torch.bfloat16 else dtype
    flat = torch.frombuffer(bytearray(raw), dtype=stored) if raw else torch.empty(0, dtype=stored)
    return (flat.view(torch.bfloat16) if dtype == torch.bfloat16 else flat).reshape(shape)


def decode(data, depth: int = 0):
    """The value ``encode`` encoded, rebuilt from plain data; ``BadValue`` for anything else."""
    if not isinstance(data, dict) or depth > MAX_DEPTH:  # JSON's objects (nbformat reads them as its dict subclass)
        raise BadValue("a value is not an object")
    kind = data.get("kind")
    if kind == "tensor":
        return _decode_tensor(data)
    if kind == "none":
        return None
    if kind in ("bool", "int", "str"):
        value = data.get("value")
        if type(value) is not {"bool": bool, "int": int, "str": str}[kind]:
            raise BadValue(f"not a {kind}")
        return _text(data, "value") if kind == "str" else value
    if kind == "float":
        try:
            return float(_text(data, "value"))
        except ValueError:
            raise BadValue("not a float") from None
    if kind == "raised":
        return Raised(_text(data, "type"), _text(data, "message"))
    if kind == "other":
        # Of a class named as the answer's type was, so that a message says what the answer returned.
        name = _text(data, "type")
        return type(name, (Opaque,), {})(name, _text(data, "repr"))
    if kind == "too large":
        return TooLarge(_shape(data), str(data.get("dtype"))[:20])
    if kind in ("tuple", "list"):
        items = data.get("items")
        if type(items) is not list or len(items) > MAX_ITEMS:
            raise BadValue(f"a {kind} of more than {MAX_ITEMS} items")
        return {"tuple": tuple, "list": list}[kind](decode(item, depth + 1) for item in items)
    raise BadValue(f"unknown kind of value {kind!r}")
