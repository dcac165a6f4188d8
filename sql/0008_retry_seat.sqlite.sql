-- A declined or cancelled payment keeps its seat until the intent's original hold ends, so that
-- "Try again" (a fresh PayTabs page for the same intent) cannot lose the place: 1 while the failed
-- intent still counts against its group's capacity; the hold sweep sets it back to 0.
ALTER TABLE intents ADD COLUMN seat_kept TINYINT NOT NULL DEFAULT 0;
