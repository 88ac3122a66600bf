"""QR check-in for course sessions."""
