"""core.json_input's nesting limit: counted on the structure, never on what strings hold."""

import json

import pytest

from core import json_input


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_a_small_body_is_measured_without_scanning_its_strings():
    assert json_input.depth('{"a": [1, {"b": "]]]"}]}') <= json_input.MAX_DEPTH
    assert json_input.loads('{"a": [1, {"b": "]]]"}]}') == {"a": [1, {"b": "]]]"}]}


def test_brackets_inside_strings_do_not_count_however_many():
    body = json.dumps({"note": "[{" * 200, "list": [[1], {"x": "}" * 100}]})
    assert json_input.loads(body)["note"] == "[{" * 200


@pytest.mark.parametrize("levels", [64, 65])
def test_the_limit_holds_with_brackets_in_strings_around(levels):
    body = '{"pad": "' + "[" * 100 + '", "deep": ' + _nested(levels - 1) + "}"
    if levels <= json_input.MAX_DEPTH:
        assert json_input.loads(body)["pad"] == "[" * 100
    else:
        with pytest.raises(json_input.MalformedJSON) as refused:
            json_input.loads(body)
        assert refused.value.kind == "depth"
