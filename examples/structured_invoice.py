import pydantic

from chat_image import ChatImage


class Invoice(pydantic.BaseModel):
    number: str
    amount: float
    paid: bool = False


with ChatImage() as client:
    completion = client.chat.completions.parse(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Invoice 17 for 250 EUR, unpaid."}],
        max_tokens=300,
        response_format=Invoice,
    )
print(completion.choices[0].message.parsed)
