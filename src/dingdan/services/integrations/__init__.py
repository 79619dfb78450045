"""Other systems: outgoing webhooks (and, later, inbound channels)."""
