"""The order list's paginator."""

from django.core.paginator import Paginator
from django.db import connection


class EstimatedCountPaginator(Paginator):
    """The unfiltered list's count from PostgreSQL's statistics once the table is large:
    an exact COUNT(*) reads every order (bench/scale). Filtered lists count exactly."""

    ESTIMATE_ABOVE = 100_000

    @property
    def count(self):
        if "_count" not in self.__dict__:
            self._count = self._estimate()
        return self._count

    def _estimate(self):
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > self.ESTIMATE_ABOVE:
                return row[0]
        return super().count
