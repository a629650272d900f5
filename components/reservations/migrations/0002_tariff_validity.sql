-- When each tariff's newest version is in force (its startDateTime and endDateTime), so that
-- no session starts on a tariff that could not price it. Copies made before stay unbounded.
ALTER TABLE tariffs ADD COLUMN valid_from TIMESTAMPTZ;
ALTER TABLE tariffs ADD COLUMN valid_until TIMESTAMPTZ;
