"""The payment use cases: checkout, notifications, confirmation, fulfilment, refunds, sweeps and what the buyer's status page learns."""
