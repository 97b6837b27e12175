-- Provisions of a row that never got an answer (the Host or the provider's runner died mid-call): counted before the
-- provider is called, cleared by any answer. Recovery stops re-driving a row past a bound, so a provider that
-- crashes on one row cannot put the Host in a crash loop.
ALTER TABLE workspaces ADD COLUMN provision_attempts integer NOT NULL DEFAULT 0;
