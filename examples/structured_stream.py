import dataclasses

from chat_image import ChatImage


@dataclasses.dataclass
class Receipt:
    merchant: str
    total: float


client = ChatImage()
with client.chat.completions.stream(
    model="gpt-4o",
    messages=[{"role": "user", "content": "Read the receipt."}],
    max_tokens=1000,
    response_format=Receipt,
) as stream:
    for event in stream:
        if event.type == "content.delta":
            print(event.parsed)  # the complete part so far, as a dict
        elif event.type == "content.done":
            print(event.parsed)  # a Receipt
    completion = stream.get_final_completion()
client.close()
