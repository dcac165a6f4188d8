"""The durable job queue: the outbox (enqueue, lease, retry), the runner's handler table, and the worker process."""
