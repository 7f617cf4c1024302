import dataclasses

from chat_image import (
    ChatImage,
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
    ResponseFormatUnsupportedError,
    StructuredOutputError,
)


@dataclasses.dataclass
class Receipt:
    merchant: str
    total: float


try:
    with ChatImage() as client:
        completion = client.chat.completions.parse(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Read the receipt."}],
            max_tokens=1000,
            response_format=Receipt,
        )
except LengthFinishReasonError as error:
    print("cut off; complete so far:", error.partial)
except ContentFilterFinishReasonError:
    print("stopped by the content filter")
except StructuredOutputError as error:
    for problems in error.errors:  # one list per answer read
        print([str(problem) for problem in problems])
    print(error.attempts, error.last_content, error.total_usage)
except ResponseFormatUnsupportedError as error:  # only with an explicit mode
    print(error.status_code, error.message)
