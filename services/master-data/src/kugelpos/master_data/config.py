"""Master-data service settings (environment > `.env` > defaults)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from kugelpos.common.settings import CommonSettings
from kugelpos.common.taxes import DEFAULT_TAX_TABLE, RoundMethod, TaxType

TaxCode = Annotated[
    str, StringConstraints(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
]


class TaxEntry(BaseModel):
    """One row of the tax master (snake_case, as `TAX_MASTER` is written)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tax_code: TaxCode
    tax_type: TaxType
    tax_name: str = Field(min_length=1, max_length=64)
    rate: Decimal = Field(ge=0, le=100, allow_inf_nan=False)
    round_digit: int = Field(ge=-6, le=6)
    round_method: RoundMethod | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TaxEntry:
        if self.tax_type is not TaxType.EXEMPT and self.round_method is None:
            raise ValueError(f"tax {self.tax_code}: round_method is required unless Exempt")
        return self


# TAX_MASTER when none is configured: the table every service shares (commons `taxes`).
DEFAULT_TAX_MASTER: tuple[TaxEntry, ...] = tuple(
    TaxEntry.model_validate(tax._asdict()) for tax in DEFAULT_TAX_TABLE
)


def _unique_codes(entries: list[TaxEntry], where: str) -> None:
    codes = [e.tax_code for e in entries]
    if len(codes) != len(set(codes)):
        raise ValueError(f"{where}: tax codes must be unique")


class MasterDataSettings(CommonSettings):
    service_name: str = "master-data"
    db_name_prefix: str = "db_master_data"

    # Taxes come from configuration: TAX_MASTER (JSON list) for every tenant, and
    # TAX_MASTER_BY_TENANT (JSON object tenant -> list) for tenants with their own table.
    tax_master: list[TaxEntry] = Field(default_factory=lambda: list(DEFAULT_TAX_MASTER))
    tax_master_by_tenant: dict[str, list[TaxEntry]] = Field(default_factory=dict)

    # Read-through cache of the hot read path (items, details, payments, settings).
    cache_ttl_seconds: float = Field(default=5.0, ge=0, le=3600)
    cache_max_entries: int = Field(default=20_000, ge=1)

    # Staff PINs: bcrypt cost and wrong-PIN throttling per staff member.
    pin_bcrypt_rounds: int = Field(default=10, ge=4, le=16)
    pin_max_failures: int = Field(default=5, ge=1)
    pin_failure_window_seconds: int = Field(default=300, ge=1)
    pin_delay_seconds: float = Field(default=5.0, gt=0)
    pin_max_delay_seconds: float = Field(default=300.0, gt=0)

    # The change log (the store's data feed): entries older than the retention that a later
    # entry of the same record replaced are deleted once a day (0: keep every entry).
    change_log_retention_days: int = Field(default=90, ge=0)
    compaction_scheduler_enabled: bool = True
    compaction_run_hour: int = Field(default=4, ge=0, le=23)
    compaction_poll_seconds: float = Field(default=300.0, gt=0)
    compaction_lease_seconds: int = Field(default=600, ge=1)

    @model_validator(mode="after")
    def _check_taxes(self) -> MasterDataSettings:
        _unique_codes(self.tax_master, "TAX_MASTER")
        for tenant, entries in self.tax_master_by_tenant.items():
            _unique_codes(entries, f"TAX_MASTER_BY_TENANT[{tenant}]")
        return self

    def taxes_for(self, tenant_id: str) -> list[TaxEntry]:
        return self.tax_master_by_tenant.get(tenant_id, self.tax_master)


@cache
def get_settings() -> MasterDataSettings:
    return MasterDataSettings()
