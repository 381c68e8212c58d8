"""API models of the liability report."""

from __future__ import annotations

from datetime import date

from kugelpos.common.schemas import ApiModel

from .service import Liability


class StoreLiability(ApiModel):
    store_code: str  # the store that sold the cards ("" for cards of no store)
    outstanding: int  # on its cards at the end of the day, held amounts included
    loaded: int
    redeemed: int
    unloaded: int
    expired: int


class LiabilityDayResponse(ApiModel):
    date: date
    outstanding: int
    stores: list[StoreLiability]


class LiabilityResponse(ApiModel):
    timezone: str
    outstanding_now: int
    days: list[LiabilityDayResponse]

    @classmethod
    def of(cls, report: Liability, timezone: str) -> LiabilityResponse:
        return cls(
            timezone=timezone,
            outstanding_now=report.outstanding_now,
            days=[
                LiabilityDayResponse(
                    date=day.day,
                    outstanding=day.outstanding,
                    stores=[
                        StoreLiability(
                            store_code=code,
                            outstanding=s.outstanding,
                            loaded=s.loaded,
                            redeemed=s.redeemed,
                            unloaded=s.unloaded,
                            expired=s.expired,
                        )
                        for code, s in sorted(day.stores.items())
                    ],
                )
                for day in report.days
            ],
        )
