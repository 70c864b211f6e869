"""The trade server's verdict on one request, before the terminal wraps it into the module's result."""

from __future__ import annotations

from dataclasses import dataclass

from app.terminal.sim import codes


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    retcode: int
    deal: int = 0
    order: int = 0
    volume: float = 0.0
    price: float = 0.0
    margin_change: float = 0.0  # what executing would add to (or free from) the used margin

    @property
    def comment(self) -> str:
        return codes.CHECK_PASSED[1] if self.retcode == codes.CHECK_PASSED[0] else codes.comment_for(self.retcode)


def refuse(retcode: int) -> Verdict:
    return Verdict(retcode=retcode)


#: order_check's verdict when every rule passes (retcode 0, "Done").
PASSED = Verdict(retcode=codes.CHECK_PASSED[0])
