-- When the charge point went silent: three heartbeat intervals with nothing heard, as a
-- timer found. NULL while it is heard, or before it was ever heard.
ALTER TABLE charge_points ADD COLUMN offline_since TIMESTAMPTZ;
