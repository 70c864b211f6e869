"""One object for values that thousands of records hold alike (what a bot sent, a volume, a symbol and comment):
kept once instead of once per record, which at 10,000 trades is megabytes."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Shared(Generic[K, V]):
    """The one object kept for each key, made the first time it is asked for. Bounded: once ``most`` keys are
    kept it starts over (what was handed out stays valid; records made later just share new objects).

    Only for values nobody changes in place, and with keys as exact as the values' sharing must be: ``1``,
    ``1.0`` and ``True`` are one key, and so are ``0.0`` and ``-0.0``."""

    __slots__ = ("_kept", "_most")

    def __init__(self, most: int) -> None:
        self._kept: dict[K, V] = {}
        self._most = most

    def get(self, key: K, make: Callable[[], V]) -> V:
        shared = self._kept.get(key)
        if shared is None:
            if len(self._kept) >= self._most:
                self._kept.clear()
            shared = self._kept[key] = make()
        return shared

    def each(self: Shared[K, K], values: Iterable[K]) -> list[K]:
        """For values that are their own keys (texts): the one object kept for each, in order. Made for batches:
        the bound is looked at once per call, so a batch may pass it by its own length."""
        if len(self._kept) >= self._most:
            self._kept.clear()
        same = self._kept.setdefault
        return [same(value, value) for value in values]

    def __len__(self) -> int:
        return len(self._kept)
