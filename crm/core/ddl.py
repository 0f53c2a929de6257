"""Raw DDL a feature keeps beside its tables (search indexes, triggers), per database.

The same statements run from the feature's migration and when tests or the benchmark create
tables directly, so both always agree.
"""
import importlib
from dataclasses import dataclass, field

from sqlalchemy import event


@dataclass(frozen=True)
class DialectDDL:
    sqlite_create: list = field(default_factory=list)
    sqlite_drop: list = field(default_factory=list)
    postgres_create: list = field(default_factory=list)
    postgres_drop: list = field(default_factory=list)

    def statements(self, dialect: str, drop: bool = False) -> list[str]:
        if dialect == "sqlite":
            return self.sqlite_drop if drop else self.sqlite_create
        if dialect == "postgresql":
            return self.postgres_drop if drop else self.postgres_create
        return []

    def install(self, connection) -> None:
        for sql in self.statements(connection.dialect.name):
            connection.exec_driver_sql(sql)

    def uninstall(self, connection) -> None:
        for sql in self.statements(connection.dialect.name, drop=True):
            connection.exec_driver_sql(sql)


def install_after_create(metadata, module: str, tables) -> None:
    """When `metadata.create_all` has made every one of `tables`, install the DDL of
    `module` (imported then, by its dotted path, so models need not import trigger code)."""
    needed = set(tables)

    @event.listens_for(metadata, "after_create")
    def _install(target, connection, **kw):
        if needed <= set(target.tables):
            importlib.import_module(module).install(connection)
