-- One row per sweeper pass: (sweeper, slot) is unique, so among several Host replicas exactly one claims each tick.
CREATE TABLE sweeper_ticks (
    sweeper     text NOT NULL,
    slot        bigint NOT NULL,
    holder      text NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sweeper, slot)
);
CREATE INDEX sweeper_ticks_claimed_idx ON sweeper_ticks (claimed_at);
