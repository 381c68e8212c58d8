"""The wire shape of a block of numbers reserved for a till's offline sales (issue 27): the
cart reserves and answers it, the terminal service passes it on to the till."""

from __future__ import annotations

from .schemas import ApiModel


class NumberBlock(ApiModel):
    block_id: str
    transaction_no_from: int
    transaction_no_to: int
    receipt_no_from: int
    receipt_no_to: int
    created_at: str | None = None
    by: str | None = None


class NumberRange(ApiModel):
    transaction_no_from: int
    transaction_no_to: int


class NumberBlockUse(NumberBlock):
    """A block with how many of its numbers accepted offline sales used, and the gaps left."""

    used_count: int
    unused_count: int
    unused: list[NumberRange]
