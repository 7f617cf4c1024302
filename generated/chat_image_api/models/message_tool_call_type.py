from typing import Literal

MessageToolCallType = Literal["function"]

MESSAGE_TOOL_CALL_TYPE_VALUES: set[MessageToolCallType] = {
    "function",
}


def check_message_tool_call_type(value: str) -> MessageToolCallType:
    if value in MESSAGE_TOOL_CALL_TYPE_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {MESSAGE_TOOL_CALL_TYPE_VALUES!r}"
    )
