from typing import Literal

NamedToolChoiceType = Literal["function"]

NAMED_TOOL_CHOICE_TYPE_VALUES: set[NamedToolChoiceType] = {
    "function",
}


def check_named_tool_choice_type(value: str) -> NamedToolChoiceType:
    if value in NAMED_TOOL_CHOICE_TYPE_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {NAMED_TOOL_CHOICE_TYPE_VALUES!r}"
    )
