import dataclasses
import datetime
import decimal

from chat_image import ChatImage, ImagePart, TextPart, UserMessage


@dataclasses.dataclass
class LineItem:
    name: str
    qty: int
    price: decimal.Decimal


@dataclasses.dataclass
class Receipt:
    """A shop receipt, as printed."""

    merchant: str
    day: datetime.date
    total: decimal.Decimal
    items: list[LineItem]


with ChatImage() as client:
    completion = client.chat.completions.parse(
        model="gpt-4o",
        messages=[
            UserMessage(
                [
                    TextPart("Read this receipt."),
                    ImagePart.from_url("https://example.com/receipt.jpg"),
                ]
            )
        ],
        max_tokens=1000,
        response_format=Receipt,
    )

receipt = completion.choices[0].message.parsed  # a Receipt (None if the model refused)
print(receipt.merchant, receipt.day, receipt.total)
print(completion.mode, completion.attempts, completion.total_usage.total_tokens)
