"""Notifications: e-mail through a transactional outbox, admin-editable templates, preferences."""
