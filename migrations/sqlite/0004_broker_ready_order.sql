-- A consumer takes the oldest unleased message of its queue. Indexed by (queue, available_at,
-- id), that meant visiting every waiting message and checking its lease in the table: each
-- take cost time in proportion to the backlog. In id order over unleased messages only, the
-- first one whose time has come is almost always the first one visited.
DROP INDEX broker_messages_ready;
CREATE INDEX broker_messages_ready ON broker_messages (queue, id) WHERE leased_until IS NULL;
