"""The audit trail for people: events in words, a record's latest changes and the vendor-wide activity page."""
