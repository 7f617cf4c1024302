"""Types the structured-output tests parse into: every kind `response_format` may be."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
from typing import Literal, NotRequired, TypedDict

import attrs


class Category(enum.Enum):
    FOOD = "food"
    TOOLS = "tools"


@dataclasses.dataclass
class LineItem:
    name: str
    qty: int
    price: decimal.Decimal
    category: Category | None = None


@dataclasses.dataclass
class Receipt:
    """A shop receipt, as printed."""

    merchant: str
    day: dt.date
    total: decimal.Decimal
    items: list[LineItem]
    currency: Literal["EUR", "USD"] = "EUR"


@attrs.define
class AttrsPoint:
    x: int
    y: int
    label: str | None = None


class Invoice(TypedDict):
    number: str
    amount: float
    note: NotRequired[str]


@dataclasses.dataclass
class Node:
    value: int
    children: list[Node]


@dataclasses.dataclass
class Event:
    title: str
    starts: dt.datetime


RECEIPT_JSON = {
    "merchant": "Acme",
    "day": "2026-03-01",
    "total": 12.5,
    "items": [
        {"name": "bread", "qty": 2, "price": 2.25, "category": "food"},
        {"name": "hammer", "qty": 1, "price": 8, "category": None},
    ],
    "currency": "EUR",
}
