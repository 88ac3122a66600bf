"""bdg_training: gender-equality (bình đẳng giới) training management."""

from __future__ import annotations

from flask import Flask

from config import BASE_DIR, get_config


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Application factory: a table of contents of ``register_*`` steps."""
    config = get_config(config_name)
    if hasattr(config, "check"):
        config.check()
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.from_object(config)
    app.config.update(overrides)

    from bdg_training import setup

    setup.register_logging(app)
    setup.register_extensions(app)
    setup.register_blueprints(app)
    setup.register_errorhandlers(app)
    setup.register_request_hooks(app)
    setup.register_template_helpers(app)
    setup.register_commands(app)
    return app
