"""Messages to customers and staff: templates, email, LINE and SMS, notifications."""
