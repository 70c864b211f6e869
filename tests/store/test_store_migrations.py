"""Schema migrations: numbered, applied in order, each committed with its version; models match the schema."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest
from peewee import SqliteDatabase, TextField
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as run_operations

from app.engine.model import Trade
from app.store import DatabaseTooNew, Repository
from app.store.migrations import MIGRATIONS, Migration, migrate, schema_version
from app.store.models import MODELS, TradeRow
from app.store.recovery import PRAGMAS


def connect(path: Path) -> SqliteDatabase:
    db = SqliteDatabase(str(path), pragmas=PRAGMAS)
    db.connect()
    return db


def add_note_column(db: SqliteDatabase) -> None:
    migrator = SchemaMigrator.from_database(db)
    run_operations(migrator.add_column("transitions", "note", TextField(default="")))


def failing_after_a_change(db: SqliteDatabase) -> None:
    add_note_column(db)
    raise RuntimeError("migration step failed")


def test_trade_model_has_a_column_for_every_trade_field() -> None:
    assert set(TradeRow._meta.fields) == {field.name for field in dataclasses.fields(Trade)}


def test_models_match_the_schema_the_migrations_create(tmp_path: Path) -> None:
    db = connect(tmp_path / "schema.db")
    try:
        migrate(db)
        for model in MODELS:
            columns = {column.name: column for column in db.get_columns(model._meta.table_name)}
            fields = {field.column_name: field for field in model._meta.sorted_fields}
            assert set(columns) == set(fields), model.__name__
            for name, field in fields.items():
                assert columns[name].null == field.null, f"{model.__name__}.{name} nullability"
                assert columns[name].primary_key == field.primary_key, f"{model.__name__}.{name} primary key"
    finally:
        db.close()


def test_a_new_file_gets_every_migration(tmp_path: Path) -> None:
    db = connect(tmp_path / "new.db")
    try:
        assert schema_version(db) == 0
        assert migrate(db) == len(MIGRATIONS)
        assert schema_version(db) == len(MIGRATIONS)
        assert migrate(db) == len(MIGRATIONS)  # a second run changes nothing
    finally:
        db.close()


def test_an_older_file_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = connect(path)
    migrate(db)
    db.execute_sql(
        "INSERT INTO transitions (ticket, from_state, to_state, reason, score, at) "
        "VALUES (7, 'HEALTHY', 'WARNING_L1', 'score fell', -1.5, 100.0)"
    )
    db.close()

    newer = (*MIGRATIONS, Migration(version=len(MIGRATIONS) + 1, description="notes", apply=add_note_column))
    db = connect(path)
    try:
        assert schema_version(db) == len(MIGRATIONS)
        assert migrate(db, newer) == len(newer)
        assert schema_version(db) == len(newer)
        rows = db.execute_sql("SELECT ticket, reason, note FROM transitions").fetchall()
        assert rows == [(7, "score fell", "")]
    finally:
        db.close()


def test_a_failing_migration_leaves_the_file_at_the_last_complete_version(tmp_path: Path) -> None:
    db = connect(tmp_path / "failing.db")
    try:
        migrate(db)
        broken = (*MIGRATIONS, Migration(version=len(MIGRATIONS) + 1, description="x", apply=failing_after_a_change))
        with pytest.raises(RuntimeError, match="migration step failed"):
            migrate(db, broken)
        assert schema_version(db) == len(MIGRATIONS)
        assert "note" not in {column.name for column in db.get_columns("transitions")}
    finally:
        db.close()


def test_migrations_must_be_numbered_in_order(tmp_path: Path) -> None:
    db = connect(tmp_path / "numbering.db")
    try:
        gap = (*MIGRATIONS, Migration(version=len(MIGRATIONS) + 2, description="gap", apply=add_note_column))
        with pytest.raises(ValueError, match="numbered"):
            migrate(db, gap)
        assert schema_version(db) == 0
    finally:
        db.close()


async def test_repository_upgrades_a_file_dtms_never_set_up(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
        connection.execute("INSERT INTO notes VALUES ('kept')")
    connection.close()
    repository = await Repository.open(path)
    try:
        assert repository.recovered_from is None
        assert await repository.load_active_trades() == []
    finally:
        await repository.close()
    db = connect(path)
    try:
        assert schema_version(db) == len(MIGRATIONS)
        assert db.execute_sql("SELECT text FROM notes").fetchall() == [("kept",)]
    finally:
        db.close()


async def test_a_file_from_a_newer_program_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    db = connect(path)
    migrate(db)
    db.execute_sql("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    with pytest.raises(DatabaseTooNew) as refused:
        await Repository.open(path)
    assert (refused.value.found, refused.value.known) == (99, len(MIGRATIONS))
    assert sorted(p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name) == []
    db = connect(path)
    try:
        assert schema_version(db) == 99
    finally:
        db.close()
