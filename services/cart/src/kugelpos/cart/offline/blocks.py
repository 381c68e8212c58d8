"""Where a block of offline numbers lies in a terminal's counters (pure).

Both counters move by one atomic `$inc`; the transaction numbers of a block are the next
`size` sequence values. Receipt numbers wrap inside the configured range (`receipt_number`):
a block whose receipt numbers would cross the range's end is moved to the range's start, the
receipt numbers it skips are burnt (gaps, never handed out in this cycle of the range), so a
block's receipt numbers are always one contiguous run `receiptNoFrom..receiptNoTo` and unique
within the range. A block larger than the range is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..transactions.tranlog import receipt_number

MIN_BLOCK = 1
MAX_BLOCK = 1_000


@dataclass(frozen=True, slots=True)
class BlockPlan:
    transaction_inc: int
    receipt_inc: int
    transaction_no_from: int
    transaction_no_to: int
    receipt_no_from: int
    receipt_no_to: int
    receipts_skipped: int


def plan_block(
    transaction_seq: int, receipt_seq: int, size: int, start: int, end: int
) -> BlockPlan:
    """The block after the counters' current values (the last numbers handed out)."""
    width = end - start + 1
    if not MIN_BLOCK <= size <= min(MAX_BLOCK, width):
        raise ValueError(f"a block holds 1..{min(MAX_BLOCK, width)} numbers, not {size}")
    first = receipt_number(receipt_seq + 1, start, end)
    skip = end - first + 1 if first + size - 1 > end else 0
    receipt_from = start if skip else first
    return BlockPlan(
        transaction_inc=size,
        receipt_inc=size + skip,
        transaction_no_from=transaction_seq + 1,
        transaction_no_to=transaction_seq + size,
        receipt_no_from=receipt_from,
        receipt_no_to=receipt_from + size - 1,
        receipts_skipped=skip,
    )
