"""Persistence on SQLite: the repository the engine uses, and what can go wrong with the file."""

from app.store.errors import DatabaseTooNew, StoreClosed, StoreError
from app.store.repository import Repository

__all__ = ["DatabaseTooNew", "Repository", "StoreClosed", "StoreError"]
