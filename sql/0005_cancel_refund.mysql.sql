-- An operator's cancellation of a fulfilled registration: how much of the sale to give back (minor
-- units; NULL when the intent was never cancelled). A partial cancellation refund ends refunded
-- with the rest of the sale kept, and the ledger check accepts exactly that.
ALTER TABLE intents ADD COLUMN cancel_refund_minor BIGINT NULL;
