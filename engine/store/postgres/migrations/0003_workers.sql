-- For several bot workers sharing one database.

-- The update-id ledger: a worker claims a Telegram update before handling it, so a copy
-- delivered twice (to any worker) is handled once. A claim not marked done by `until`
-- (its worker died) may be taken over. Rows older than a few days are pruned: Telegram
-- gives up redelivering long before.
CREATE TABLE handled_updates (
    update_id   bigint PRIMARY KEY,
    owner       text NOT NULL,             -- host:pid of the worker that holds it
    until       double precision NOT NULL, -- the claim's lease (epoch seconds)
    done        boolean NOT NULL DEFAULT false,
    time        double precision NOT NULL  -- first claimed
);
CREATE INDEX handled_updates_time ON handled_updates(time);

-- The per-user rate limit shared by the workers: one fixed window per subject.
-- UNLOGGED: counters lost in a server crash only let a few more updates through.
CREATE UNLOGGED TABLE rate_limits (
    subject text PRIMARY KEY,
    since   double precision NOT NULL,     -- the window's start (epoch seconds)
    hits    integer NOT NULL
);
