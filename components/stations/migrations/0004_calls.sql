-- The OCPP version the charge point last booted with, for the calls the platform makes to it.
ALTER TABLE charge_points ADD COLUMN speaks TEXT;
