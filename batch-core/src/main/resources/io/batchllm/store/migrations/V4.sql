-- Version 4: validation loads a batch's request rows in small transactions while the batch stays
-- 'validating'. load_token is the fencing token of the loader doing it: every transaction of a load
-- checks it, so a loader that another one took over (a node that started meanwhile) stops.
ALTER TABLE batches ADD COLUMN load_token BIGINT;
