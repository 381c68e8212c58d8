"""How a category is stored in `master_category`."""

from __future__ import annotations

from ..documents import MasterDocument


class CategoryDocument(MasterDocument):
    category_code: str
    description: str
    description_short: str
    tax_code: str
