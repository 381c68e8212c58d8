"""The parameter master: named values with per-store and per-terminal overrides (receipt
headers, receipt number range, cash ceilings...) that the tills' carts read. The v1 contract
calls it the settings master: its paths (`/settings`), schema names (`SettingsMaster...`),
operations and messages keep that name; the code here does not, so that "settings" means only
configuration (`config.py`)."""
