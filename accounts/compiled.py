"""Queries compiled once per process: the few reads every signed-in request makes.

On this stack, turning a QuerySet into SQL costs more than running it: the membership
query with its account took 1.5 ms to build and compile and 0.1 ms in PostgreSQL
(docs/performance.md). A `CompiledQuery` keeps the ORM as the one place a rule is written
(`live_condition`, the session's expiry, …): it builds the QuerySet once with placeholder
values, keeps the SQL and the compiler's description of the rows, and each call runs the
same SQL with the real values and builds model instances (`select_related` and
annotations included) the way Django's own ModelIterable does.

Only for querysets whose SQL does not change shape with the values: no `__in` lists, no
conditions added or dropped per call. tests/test_compiled_queries.py runs every compiled
query of the site against its plain QuerySet and compares the results.
"""

import contextlib
import datetime as dt
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import DateField, Field, Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery

from .commits import RELAXED, may_commit_without_waiting

# Every CompiledQuery the site defines, for the test that compares each with its QuerySet.
REGISTRY: list["CompiledQuery"] = []
# The placeholder for a query's `now`: an instant no real query asks about.
SENTINEL_NOW = dt.datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=dt.UTC)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: dict[str, tuple[int, ...]]  # placeholder name -> positions in params
    db: str
    converters: list  # (position, [converter, ...], expression), as Django's compiler makes them
    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    populators: list
    annotations: dict[str, int]  # annotation name -> position in the row


class CompiledQuery:
    """`CompiledQuery(build, account_id=-1)`: `build(account_id=...)` returns the QuerySet;
    each keyword names a placeholder and gives a sentinel value that appears nowhere else in
    the query. Calling it with real values returns the list of model instances.

    On PostgreSQL it is a prepared statement, which may be given one generic plan for any
    values: write the QuerySet so that such a plan is still an index lookup whichever
    account it is for (tests/test_compiled_query_plans.py)."""

    def __init__(self, build: Callable[..., QuerySet], **sentinels: Any) -> None:
        self.build = build
        self.sentinels = sentinels
        self._compiled: _Compiled | None = None
        self._lock = threading.Lock()
        REGISTRY.append(self)

    def __repr__(self) -> str:
        return f"CompiledQuery({self.build.__module__}.{self.build.__qualname__})"

    def __call__(self, **values: Any) -> list[Model]:
        return run_together(self.bind(**values))[0]

    def bind(self, **values: Any) -> "Bound":
        """This query with its values, to run with others in one round trip."""
        return Bound(self, values)

    def _sql_and_params(self, values: dict[str, Any]) -> tuple[str, list]:
        compiled = self._compiled or self._compile()
        params = list(compiled.params)
        ops = connections[compiled.db].ops
        for name, positions in compiled.slots.items():
            value = _as_parameter(values[name], ops)
            for position in positions:
                params[position] = value
        return compiled.sql, params

    def _objects(self, rows: list, connection) -> list[Model]:
        compiled = self._compiled
        objects = []
        for row in rows:
            if compiled.converters:
                row = list(row)
                for position, converters, expression in compiled.converters:
                    for convert in converters:
                        row[position] = convert(row[position], expression, connection)
            obj = compiled.model.from_db(
                compiled.db, compiled.init_list, row[compiled.start : compiled.end]
            )
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects

    def _compile(self) -> _Compiled:
        with self._lock:
            if self._compiled is None:
                self._compiled = self._compile_now()
            return self._compiled

    def _compile_now(self) -> _Compiled:
        queryset = self.build(**self.sentinels)
        if queryset._known_related_objects or queryset._prefetch_related_lookups:
            raise ValueError(f"{self!r}: related managers and prefetching are not supported")
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        ops = connections[queryset.db].ops
        slots = {
            name: tuple(
                i for i, param in enumerate(params) if param == _as_parameter(sentinel, ops)
            )
            for name, sentinel in self.sentinels.items()
        }
        for name, positions in slots.items():
            if not positions:
                raise ValueError(f"{self!r}: placeholder {name!r} is not in the SQL")
        if len({p for positions in slots.values() for p in positions}) != sum(
            len(positions) for positions in slots.values()
        ):
            raise ValueError(f"{self!r}: two placeholders share a value; make them distinct")
        if connections[queryset.db].vendor == "postgresql":
            sql, params, slots = _constants_inlined(sql, params, slots, ops)
        klass_info, select = compiler.klass_info, compiler.select
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            db=queryset.db,
            converters=[
                (position, converters, expression)
                for position, (converters, expression) in compiler.get_converters(
                    [column[0] for column in select[: compiler.col_count]]
                ).items()
            ],
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, queryset.db),
            annotations=dict(compiler.annotation_col_map or {}),
        )


# A parameter placeholder, or an escaped percent sign, in SQL as Django writes it for psycopg.
_PLACEHOLDER_OR_PERCENT = re.compile(r"%s|%%")


def _constants_inlined(
    sql: str, params: list, slots: dict[str, tuple[int, ...]], ops
) -> tuple[str, tuple, dict[str, tuple[int, ...]]]:
    """The SQL with every parameter that is not a placeholder written in as a literal (a
    status, a kind: values of the code, not of the request), and the slots renumbered.

    A prepared statement may be given a generic plan, made once for any parameter values.
    With `status = $2` such a plan cannot use an index that holds only the active grants,
    nor the statistics of 'active'; with `status = 'active'` it can
    (tests/test_compiled_query_plans.py).
    """
    kept = sorted(position for positions in slots.values() for position in positions)
    renumbered = {position: number for number, position in enumerate(kept)}
    positions = iter(range(len(params)))

    def replace(match: re.Match) -> str:
        if match.group() == "%%":
            return "%%"
        position = next(positions)
        if position in renumbered:
            return "%s"
        # The driver's own quoting; a percent sign in it stays escaped for the driver.
        return ops.compose_sql("%s", [params[position]]).replace("%", "%%")

    inlined = _PLACEHOLDER_OR_PERCENT.sub(replace, sql)
    return (
        inlined,
        tuple(params[position] for position in kept),
        {name: tuple(renumbered[p] for p in found) for name, found in slots.items()},
    )


def _as_parameter(value: Any, ops) -> Any:
    """A value as the ORM passes it to the driver: instants as the backend adapts them
    (unchanged on PostgreSQL; text in UTC on SQLite)."""
    if isinstance(value, dt.datetime):
        return ops.adapt_datetimefield_value(value)
    return value


@dataclass(frozen=True)
class Bound:
    query: CompiledQuery
    values: dict[str, Any]


def run_together(*bound: Bound) -> list[list[Model]]:
    """Run compiled queries in one round trip and return each one's objects, in order.

    On PostgreSQL they go as prepared statements in one pipeline (`PreparedPipeline`);
    elsewhere they run one by one. Always on this thread's connection: the compiler's is the
    thread's that compiled.
    """
    statements = [b.query._sql_and_params(b.values) for b in bound]
    connection = connections[bound[0].query._compiled.db]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            results = []
            for b, (sql, params) in zip(bound, statements, strict=True):
                cursor.execute(sql, params)
                results.append(b.query._objects(cursor.fetchall(), connection))
            return results
    rows = _run_prepared(connection, statements)
    return [b.query._objects(found, connection) for b, found in zip(bound, rows, strict=True)]


def _run_prepared(connection, statements: list[tuple[str, list]]) -> list[list]:
    """Each statement's rows, the statements sent in one `PreparedPipeline`."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    pipeline = PreparedPipeline(connection.connection, statements)
    # Django's own cursor wrapper around it: execute wrappers, the query log and the
    # translation of errors see one execution, as there is one round trip.
    if connection.queries_logged:
        cursor = connection.make_debug_cursor(pipeline)
    else:
        cursor = connection.make_cursor(pipeline)
    cursor.execute(";\n".join(sql for sql, _ in statements), None)
    return pipeline.rows


class PreparedPipeline:
    """What Django's cursor wrapper executes for `run_together` on PostgreSQL: every
    statement as a prepared statement, all in one pipeline (one round trip).

    PostgreSQL spent more time planning these reads than running them: the signed-in
    user's batch took 1.0 ms as plain statements and 0.44 ms prepared (docs/performance.md).
    A statement prepared once per connection is planned once, and the same few run on every
    request. With DATABASE_PREPARED_STATEMENTS=false the same statements go unprepared.
    psycopg names them per connection and prepares them again on a new one.

    A lone statement goes without pipeline mode: one round trip either way, and the
    pipeline's own bookkeeping (a sync and more waits on the socket) cost it 15 µs.
    """

    def __init__(self, raw_connection, statements: list[tuple[str, list]]) -> None:
        self.raw_connection = raw_connection
        self.statements = statements
        self.rows: list[list] = []

    def execute(self, sql: str, params: None = None) -> None:
        raw = self.raw_connection
        # psycopg prepares only while the connection has a threshold. Django leaves it None,
        # and it must stay None for the ORM's queries: psycopg would count each one by its
        # text, and a bulk insert's text, values and all, can be a megabyte.
        threshold = raw.prepare_threshold
        if settings.DATABASE_PREPARED_STATEMENTS:
            raw.prepare_threshold = 0
        try:
            # Server-side binding (psycopg.Cursor): only it can prepare.
            cursors = [psycopg.Cursor(raw) for _ in self.statements]
            with raw.pipeline() if len(cursors) > 1 else contextlib.nullcontext():
                for cursor, (statement, statement_params) in zip(
                    cursors, self.statements, strict=True
                ):
                    cursor.execute(statement, statement_params, prepare=True)
        finally:
            raw.prepare_threshold = threshold
        self.rows = [cursor.fetchall() for cursor in cursors]

    @property
    def _query(self):
        # Read by Django's query log only (DEBUG, tests): the statements with their values.
        mogrify = psycopg.ClientCursor(self.raw_connection).mogrify
        text = ";\n".join(mogrify(sql, params) for sql, params in self.statements)
        return _LoggedQuery(text.encode())

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class _LoggedQuery:
    query: bytes


class CompiledInsert:
    """`CompiledInsert(Model).insert(obj)`: save a new instance as one INSERT of every
    column, its SQL built once per database, the primary key read back onto the instance.

    `Model.save()` builds its INSERT anew on every call, through signals, the compiler and
    each field's hooks: 0.1-0.2 ms of an audit row written on every page a support
    representative opens, beside 0.34 ms for the write itself (docs/performance.md). Only
    for models whose fields take their value as it is at save (no auto_now, no field
    changing it in `pre_save`); no signals are sent, as for `bulk_create`.
    """

    def __init__(self, model: type[Model]) -> None:
        meta = model._meta
        hooked = [field.name for field in meta.concrete_fields if _sets_itself(field)]
        if hooked:
            raise ValueError(f"{model.__name__}: {hooked} set themselves at save")
        self.model = model
        self.fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
        self._sql: dict[tuple[str, bool], str] = {}

    def insert(
        self, obj: Model, *, using: str = DEFAULT_DB_ALIAS, wait_for_disk: bool = True
    ) -> Model:
        """`wait_for_disk=False`: the row may commit without waiting for the disk when it is
        its own transaction (accounts.commits); inside one it waits as the others do."""
        connection = connections[using]
        relaxed = not wait_for_disk and may_commit_without_waiting(connection)
        sql = self._sql.get((using, relaxed)) or self._compile(obj, using, relaxed=relaxed)
        params = [
            field.get_db_prep_save(getattr(obj, field.attname), connection) for field in self.fields
        ]
        if connection.vendor == "postgresql":
            # Prepared, as the compiled reads are: PostgreSQL neither parses nor plans it again.
            ((obj.pk, *_setting),) = _run_prepared(connection, [(sql, params)])[0]
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                obj.pk = cursor.fetchone()[0]
        obj._state.adding = False
        obj._state.db = using
        return obj

    def _compile(self, obj: Model, using: str, *, relaxed: bool) -> str:
        if not connections[using].features.can_return_columns_from_insert:
            raise NotImplementedError("needs INSERT … RETURNING")
        query = InsertQuery(self.model)
        query.insert_values(self.fields, [obj])
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = [self.model._meta.pk]
        ((sql, params),) = compiler.as_sql()
        if len(params) != len(self.fields):  # a value written as SQL, not as a parameter
            raise ValueError(f"{self.model.__name__}: the INSERT does not take one value a column")
        if relaxed:
            # In the statement itself, so that the write stays one statement (accounts.commits).
            sql = f"{sql}, {RELAXED}"
        self._sql[(using, relaxed)] = sql
        return sql


def _sets_itself(field: Field) -> bool:
    """Whether a field changes its value when the instance is saved (Field.pre_save)."""
    if isinstance(field, DateField):  # DateTimeField too: only with auto_now(_add)
        return field.auto_now or field.auto_now_add
    return type(field).pre_save is not Field.pre_save
