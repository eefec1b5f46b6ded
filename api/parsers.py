from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.json_input import MalformedJSON, loads


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with core.json_input.loads: every API endpoint, authenticated or not."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        try:
            return loads(data)
        except MalformedJSON as exc:
            raise ParseError(str(exc)) from exc
