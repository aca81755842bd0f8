"""Who is an instructor, read with the logged-in user in one query.

Instructors are ordinary users in the `Instructors` group who are listed as a class's
instructors (`Classroom.instructors`); admins (superusers) count as instructors of every
class. Every page's header asks whether to show "My classes", so the role is read
together with the user by `RoleModelBackend` instead of in a query of its own.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db.models import Exists, OuterRef

INSTRUCTOR_GROUP = "Instructors"


def _in_instructor_group():
    through = get_user_model().groups.through
    return Exists(through.objects.filter(user_id=OuterRef("pk"), group__name=INSTRUCTOR_GROUP))


def is_instructor(user: AbstractBaseUser) -> bool:
    """True for members of the Instructors group and for superusers.

    Uses the flag `RoleModelBackend` loaded with the user; a user loaded any other way
    costs one query, once."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    flag = getattr(user, "in_instructor_group", None)
    if flag is None:
        flag = Group.objects.filter(name=INSTRUCTOR_GROUP, user=user).exists()
        user.in_instructor_group = flag
    return flag


class RoleModelBackend(ModelBackend):
    """Django's ModelBackend; the session's user is loaded with their role."""

    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.annotate(in_instructor_group=_in_instructor_group()).get(
                pk=user_id
            )
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
