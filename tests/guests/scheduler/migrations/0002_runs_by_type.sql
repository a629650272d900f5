-- The summaries read the runs of one type; the benchmark polls their count while a burst
-- drains, which without this index scans every run each time.
CREATE INDEX runs_by_type ON runs (event_type, event_id);
