"""Cart domain model and master data as the calculation sees them (no API or storage types)."""
