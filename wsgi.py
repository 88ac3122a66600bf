"""The only module-level application: ``gunicorn wsgi:app`` / ``flask --app wsgi``."""

from bdg_training import create_app

app = create_app()
