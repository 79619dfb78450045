"""Other systems: outgoing webhooks."""
