"""Draw a new content version whenever course content changes.

Content is kept in process memory per content version (`courseware.content`), so every
save or delete of a content model must draw a new one, admin's included. Following
Zulip's caching guide, the flush hangs on the ORM's post_save/post_delete signals, so
the code people naturally write (a save in admin, a shell edit) cannot leave a page
stale. The receivers are connected per content model only (each app's AppConfig names
its learner-data models, which are not content), so deleting learner data keeps
Django's fast path. Bulk writes send no signal: the content loaders draw a new version
themselves when they finish.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save

from . import content


def content_changed(sender, **kwargs) -> None:
    if kwargs.get("action", "post_").startswith("post_"):
        content.bump()


def content_models():
    """Every model of the course apps that is not learner data."""
    for label in settings.COURSE_APPS:
        config = apps.get_app_config(label)
        learner = getattr(config, "learner_models", frozenset())
        for model in config.get_models():
            if model.__name__ not in learner:
                yield model


def connect() -> None:
    for model in content_models():
        uid = f"content-version-{model._meta.label_lower}"
        post_save.connect(content_changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"{uid}-delete")
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                content_changed, sender=field.remote_field.through, dispatch_uid=f"{uid}-m2m"
            )
