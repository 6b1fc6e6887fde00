-- Reserved: the outbox's migration (0002_outbox.sql) takes this number. This file only
-- keeps the numbers contiguous until that one is merged in; it is then deleted.
SELECT 1;
