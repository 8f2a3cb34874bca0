"""The API's JSON parser: DRF's, with a limit on how deeply arrays and objects may nest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No body the API takes nests deeper than three levels; 32 leaves room and keeps the
# work done on a hostile body small.
MAX_JSON_DEPTH = 32

TOO_DEEP = _("The JSON body nests arrays and objects deeper than %(limit)d levels.")


def nests_deeper_than(data: Any, limit: int) -> bool:
    """Whether `data` has arrays or objects more than `limit` levels deep (without recursion of its own)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """Refuses deeply nested JSON with a 400 that says so.

    Python's decoder recurses once per level: about a thousand levels (`[[[...]]]`, a few
    kilobytes) raise RecursionError, which DRF does not catch, so the request was a 500.
    Shallower but still absurd nesting is refused too, before any view walks it.
    """

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(TOO_DEEP % {"limit": MAX_JSON_DEPTH}) from error
        if nests_deeper_than(data, MAX_JSON_DEPTH):
            raise ParseError(TOO_DEEP % {"limit": MAX_JSON_DEPTH})
        return data
