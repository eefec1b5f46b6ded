from rest_framework import serializers

MAX_ID = 2**63 - 1


class StrictSerializer(serializers.Serializer):
    """Input serializer that refuses fields it does not declare (the API answers 400).

    A client that sends `unit_amount`, `price` or `total` is told so, instead of having the
    field silently ignored: prices only ever come from the catalog.
    """

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object."]}, code="invalid"
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


def id_field(**kwargs):
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def validated(serializer_class, request) -> dict:
    """Parse a request body with an input serializer; invalid input raises a 400."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
