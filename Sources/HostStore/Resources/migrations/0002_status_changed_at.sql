-- When the status last changed, maintained by a trigger so no statement can forget it. Heartbeats received before
-- the last change (e.g. from an instance that a restart is replacing) must not move the status again.
ALTER TABLE workspaces ADD COLUMN status_changed_at timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION workspaces_stamp_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        NEW.status_changed_at := clock_timestamp();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER workspaces_status_change BEFORE UPDATE ON workspaces
    FOR EACH ROW EXECUTE FUNCTION workspaces_stamp_status_change();
