-- The buyer's language, from the registration form's locale at checkout ("en" or "ar"): the status
-- page, the sidecar's pages, the e-mails and the PayTabs page speak it. Intents from before speak
-- English.
ALTER TABLE intents ADD COLUMN locale VARCHAR(8) NOT NULL DEFAULT 'en';
