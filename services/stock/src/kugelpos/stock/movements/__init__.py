"""Stock movements by kind per day (`GET .../stock/movements`)."""
