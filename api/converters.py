class IdConverter:
    """Database ids only: at most 18 digits, so no id can overflow a bigint into a 500."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)
