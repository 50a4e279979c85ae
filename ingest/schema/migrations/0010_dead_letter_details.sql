-- One dead-letter row per rejected message. Items rejected inside a valid envelope used to
-- be one row each (a 40 KB message of 10,000 bad items made 10,000 rows); now the message's
-- row summarises them in `reason` and keeps the figures here:
--   items_rejected: {"items": n, "rejected": n, "by_reason": [{"reason", "count"}...],
--                    "first": [{"index", "reason", "item"}...]}   (the first few items)
--   internal_error: {"stage": "decoding"|"writing", "exception": "...", "message": "..."}
-- Null for whole-message faults whose code and reason say everything. For items_rejected,
-- `item_index` is the first rejected item's index and `payload` the message as received.

ALTER TABLE dead_letters ADD COLUMN details jsonb;
