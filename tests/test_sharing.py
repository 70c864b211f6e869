"""Values many records hold alike are kept once, within a bound."""

from __future__ import annotations

from app.sharing import Shared


def test_equal_keys_share_one_object_made_once_and_the_bound_starts_over() -> None:
    shared: Shared[tuple[str, str], list[str]] = Shared(most=2)
    made: list[tuple[str, str]] = []

    def make(key: tuple[str, str]) -> list[str]:
        made.append(key)
        return list(key)

    first = shared.get(("EURUSD", ""), lambda: make(("EURUSD", "")))
    assert shared.get(("EURUSD", ""), lambda: make(("EURUSD", ""))) is first and made == [("EURUSD", "")]
    shared.get(("GBPUSD", ""), lambda: make(("GBPUSD", "")))
    assert len(shared) == 2
    again = shared.get(("XAUUSD", "grid"), lambda: make(("XAUUSD", "grid")))  # past the bound: starts over
    assert len(shared) == 1 and again == ["XAUUSD", "grid"]
    assert shared.get(("EURUSD", ""), lambda: make(("EURUSD", ""))) is not first, "forgotten, made anew"
    assert first == ["EURUSD", ""], "what was handed out stays valid"


def test_texts_that_are_their_own_keys_share_one_object_per_batch_within_the_bound() -> None:
    texts: Shared[str, str] = Shared(most=2)
    one, other = "".join(["grid ", "7"]), "".join(["grid ", "7"])
    assert one is not other
    first = texts.each([one, "EURUSD", other])
    assert first[0] is first[2] is one and len(texts) == 2
    again = texts.each([other, "XAUUSD"])  # the bound was reached: started over before this batch
    assert again[0] is other and len(texts) == 2
