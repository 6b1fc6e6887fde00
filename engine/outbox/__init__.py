"""The event stream's logic that is not SQL: domain events built from step results and
admin operations (events.py), the JSON Schemas they follow (schemas.py), the publisher core
with its circuit breaker (publisher.py), the NATS JetStream broker (nats.py) and the stats
sink, one real consumer of the stream (sink.py).

The stores write the events to their outbox table in the same transaction as the save
(engine/store/*/outbox.py holds the SQL); nothing here imports the store.
"""
