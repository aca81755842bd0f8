"""Keeping the page cache and the user cache honest when rows change.

Services draw new tokens themselves for the writes they make in bulk (which send no
signals); these receivers cover every other save and delete, admin's included: a change
to a learner's own rows makes that learner's kept pages stale, a change to anything
else in the course apps (content, classes) makes every kept page stale.
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Model
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_migrate,
    post_save,
    pre_delete,
)
from django.dispatch import receiver

from . import pagecache, selectors
from .auth_backend import forget_user


def _via(model_label: str, field: str, owner: str = "user_id") -> Callable[[Model], int | None]:
    """The owner of a row found through its parent (a pick through its session)."""

    def owner_of(instance: Model) -> int | None:
        parent = apps.get_model(model_label)
        return (
            parent.objects.filter(pk=getattr(instance, field)).values_list(owner, flat=True).first()
        )

    return owner_of


# Rows that belong to one learner, and how to find that learner.
OWNED: dict[str, Callable[[Model], int | None]] = {
    "courseware.sectionprogress": lambda row: row.user_id,
    "courseware.enrollment": lambda row: row.student_id,
    "labeling.labelingsession": lambda row: row.user_id,
    "labeling.sessionpair": _via("labeling.LabelingSession", "session_id"),
    "labeling.pick": _via("labeling.LabelingSession", "session_id"),
    "quiz.attempt": lambda row: row.user_id,
    "quiz.attemptquestion": _via("quiz.Attempt", "attempt_id"),
    "quiz.answer": _via("quiz.Attempt", "attempt_id"),
}
# What classmates see of each other changes with these (the profile's class agreement).
CLASS_WIDE = {"courseware.enrollment", "labeling.labelingsession", "labeling.pick"}


def _changed(instance: Model) -> None:
    meta = instance._meta
    if meta.app_label not in settings.COURSE_APPS:
        return
    owner_of = OWNED.get(meta.label_lower)
    if owner_of is None:
        pagecache.bump(pagecache.CONTENT)
        return
    user_id = owner_of(instance)
    pagecache.bump_user(user_id)
    if meta.label_lower in CLASS_WIDE and user_id is not None:
        pagecache.bump_classes(selectors.classroom_ids(user_id=user_id))


def _user_changed(user_id) -> None:
    """The header shows the user (name, roles): forget the kept user and their pages."""
    forget_user(user_id)
    pagecache.bump_user(user_id)


@receiver(post_save, dispatch_uid="pagecache-save")
@receiver(post_delete, dispatch_uid="pagecache-delete")
def saved_or_deleted(sender, instance: Model, **kwargs) -> None:
    if isinstance(instance, get_user_model()):
        _user_changed(instance.pk)
    else:
        _changed(instance)


@receiver(m2m_changed, dispatch_uid="pagecache-m2m")
def relations_changed(sender, instance: Model, action: str, pk_set, **kwargs) -> None:
    User = get_user_model()
    if sender is User.groups.through:
        # A role: the kept user carries it (instructor pages check it) and the header
        # shows it. From the user's side the user is `instance`; from the group's side
        # the users are `pk_set`, except for clear(), which names nobody afterwards.
        if isinstance(instance, User):
            if action.startswith("post_"):
                _user_changed(instance.pk)
        elif action == "pre_clear":
            _members_changed(instance)
        elif action in ("post_add", "post_remove"):
            for user_id in pk_set:
                _user_changed(user_id)
    elif action.startswith("post_") and isinstance(instance, Model):
        _changed(instance)


@receiver(pre_delete, sender=Group, dispatch_uid="pagecache-group-delete")
def group_deleted(sender, instance: Group, **kwargs) -> None:
    """Deleting a group removes its members' memberships without an m2m signal."""
    _members_changed(instance)


def _members_changed(group: Group) -> None:
    # Inside the clear's or the delete's transaction: the tokens are drawn again when it
    # commits, after the members have left.
    for user_id in group.user_set.values_list("pk", flat=True):
        _user_changed(user_id)


@receiver(post_migrate, dispatch_uid="pagecache-migrate")
def migrated(sender, **kwargs) -> None:
    pagecache.bump(pagecache.CONTENT)
