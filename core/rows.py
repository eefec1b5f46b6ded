"""Reading, locking, inserting and updating one app's own rows with SQL built once per model.

Django's ORM compiles every query afresh: for the dozen statements that apply one payment
event, building the SQL cost more of the worker's CPU than PostgreSQL took to run it
(bench/run processing --profile; docs/webhooks.md). The hot path's statements use these
instead. Each app passes only its own model and the condition on its own columns; the
column list, the quoting and the conversions (JSON, dates) come from the model, once per
model and database, and rows come back as model instances, exactly as the ORM builds them
(`Model.from_db`). `pre_save` and `post_save` are sent as `Model.save` sends them.

Written for PostgreSQL and SQLite alike: FOR UPDATE (and SKIP LOCKED) only where the
database has it, as the ORM does.
"""

from functools import cache

from django.db import connections, router
from django.db.models import signals


@cache
def _plan(model, alias: str):
    """(table, quoted columns, attnames, converters per column) of `model` on `alias`."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = model._meta.concrete_fields
    columns = ", ".join(f"{table}.{quote(f.column)}" for f in fields)
    converters = []
    for field in fields:
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        converters.append([(c, column) for c in found])
    return table, columns, [f.attname for f in fields], converters


def table(model) -> str:
    """The model's quoted table name, for conditions on its own columns."""
    return _plan(model, router.db_for_read(model))[0]


def column(model, name: str) -> str:
    """One of the model's columns, quoted and qualified by its table."""
    return f"{table(model)}.{quote(model, name)}"


def select(
    model,
    where: str,
    params=(),
    *,
    lock: bool = False,
    skip_locked: bool = False,
    order_by: str = "",
    limit: int | None = None,
    extra: tuple[tuple[str, str], ...] = (),
    using: str | None = None,
) -> list:
    """Instances of `model` whose rows meet `where` (SQL on the model's own columns, with
    %s parameters), optionally locked FOR UPDATE [SKIP LOCKED]. `extra`: (attribute, SQL
    expression) pairs read with each row and set on its instance."""
    alias = using or (router.db_for_write(model) if lock else router.db_for_read(model))
    connection = connections[alias]
    table_sql, columns, attnames, converters = _plan(model, alias)
    extra_sql = "".join(f", {expression}" for _, expression in extra)
    sql = f"SELECT {columns}{extra_sql} FROM {table_sql} WHERE {where}"  # noqa: S608
    if order_by:
        sql += f" ORDER BY {order_by}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
        if skip_locked and connection.features.has_select_for_update_skip_locked:
            sql += " SKIP LOCKED"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        rows = cursor.fetchall()
    count, found = len(attnames), []
    for row in rows:
        values = list(row[:count])
        for index, steps in enumerate(converters):
            for convert, expression in steps:
                values[index] = convert(values[index], expression, connection)
        instance = model.from_db(alias, attnames, values)
        for (name, _), value in zip(extra, row[count:], strict=True):
            setattr(instance, name, value)
        found.append(instance)
    return found


def values(model, expressions: str, where: str, params=(), *, order_by: str = "") -> list:
    """Tuples of `expressions` (SQL on the model's own columns) for the rows meeting `where`."""
    connection = connections[router.db_for_read(model)]
    sql = f"SELECT {expressions} FROM {table(model)} WHERE {where}"  # noqa: S608
    if order_by:
        sql += f" ORDER BY {order_by}"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def update(model, assignments: str, where: str, params=()) -> int:
    """`UPDATE <table> SET <assignments> WHERE <where>`, both SQL on the model's own columns
    (plain column names: `quote`); returns the number of rows changed. No signals: this is
    a set-based update, as `QuerySet.update` is."""
    connection = connections[router.db_for_write(model)]
    sql = f"UPDATE {table(model)} SET {assignments} WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


def locking_subquery(model, name: str, where: str) -> str:
    """SQL selecting column `name` of the rows meeting `where`, locked FOR UPDATE in the
    column's order (where the database locks rows), for `... IN (<this>)` in one UPDATE."""
    connection = connections[router.db_for_write(model)]
    column = quote(model, name)
    sql = f"SELECT {column} FROM {table(model)} WHERE {where} ORDER BY {column}"  # noqa: S608
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql


def quote(model, name: str) -> str:
    """One of the model's columns, quoted, unqualified (for SET)."""
    connection = connections[router.db_for_write(model)]
    return connection.ops.quote_name(model._meta.get_field(name).column)


def placeholders(count: int) -> str:
    """`%s, %s, ...` for an IN list of `count` values."""
    return ", ".join(["%s"] * count)


def first(model, where: str, params=(), **options):
    """The first instance `select` finds, or None."""
    found = select(model, where, params, limit=1, **options)
    return found[0] if found else None


def save_fields(instance, fields) -> None:
    """One UPDATE of these fields of the instance's row, as `save(update_fields=...)` does:
    fields with auto_now are set now and written too."""
    model, alias = type(instance), instance._state.db or router.db_for_write(type(instance))
    meta, connection = model._meta, connections[alias]
    names = list(dict.fromkeys(fields))
    names += [f.name for f in meta.concrete_fields if getattr(f, "auto_now", False)]
    chosen = [meta.get_field(name) for name in dict.fromkeys(names)]
    update_fields = frozenset(f.name for f in chosen)
    _send(signals.pre_save, instance, alias, update_fields=update_fields)
    quote = connection.ops.quote_name
    assignments, params = [], []
    for field in chosen:
        value = field.pre_save(instance, False)
        assignments.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    params.append(meta.pk.get_db_prep_value(instance.pk, connection))
    sql = (
        f"UPDATE {_plan(model, alias)[0]} SET {', '.join(assignments)} "  # noqa: S608
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    _send(signals.post_save, instance, alias, created=False, update_fields=update_fields)


def insert(instance):
    """One INSERT of a new instance (its primary key generated by the database), as
    `save()` does for a new row: auto_now(_add) fields are set now."""
    model = type(instance)
    alias = router.db_for_write(model)
    meta, connection = model._meta, connections[alias]
    _send(signals.pre_save, instance, alias, update_fields=None)
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    sql = (
        f"INSERT INTO {_plan(model, alias)[0]} "  # noqa: S608
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, alias
    _send(signals.post_save, instance, alias, created=True, update_fields=None)
    return instance


def _send(signal, instance, alias: str, **kwargs) -> None:
    model = type(instance)
    if signal.has_listeners(model):
        signal.send(sender=model, instance=instance, raw=False, using=alias, **kwargs)
