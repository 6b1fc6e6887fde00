-- A player's own rank without counting the index entries of everyone above them (at a
-- million players that count took about 0.4 s): how many players hold each score, and
-- each (score, reached bucket), as SQLite keeps them (engine/store/sqlite/migrations.py).
-- The writers keep them (engine/store/postgres/ranks.py) rather than triggers: a batch
-- changes its counters in one sorted statement per table, so two workers' transactions
-- take the counters' row locks in one order and never deadlock on them.
-- bucket = reached >> 14 (ranks.BUCKET_BITS): coarser than SQLite's 12, as measured over a
-- million players: summing fewer histogram rows costs less here than the longer count
-- within a bucket.

CREATE TABLE score_count (
    board  text NOT NULL,
    score  bigint NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (board, score)
);

CREATE TABLE score_hist (
    board  text NOT NULL,
    score  bigint NOT NULL,
    bucket bigint NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (board, score, bucket)
);

INSERT INTO score_count SELECT board, score, count(*) FROM scores GROUP BY board, score;
INSERT INTO score_hist SELECT board, score, reached >> 14, count(*) FROM scores
    GROUP BY board, score, reached >> 14;
