"""Account error codes (408xxx) beyond the commons ones."""

from __future__ import annotations

from kugelpos.common.errors import AlreadyExistsError


class TenantIdCaseConflictError(AlreadyExistsError):
    """The tenant id equals an existing one but for case: their databases would collide."""

    code = "408201"
