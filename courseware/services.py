"""Writes for accounts, classes and progress. Keyword-only, atomic, validated."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import (
    Classroom,
    Enrollment,
    Section,
    SectionProgress,
    new_join_code,
    normalize_join_code,
)
from .plugins import app_hooks
from .roles import INSTRUCTOR_GROUP

User = get_user_model()


USERNAME_TAKEN = "That username is taken."


class JoinCodeError(ValidationError):
    pass


def classroom_for_join_code(*, code: str) -> Classroom:
    """The open class a code admits to, or a JoinCodeError a person can read."""
    normalized = normalize_join_code(code)
    if not normalized:
        raise JoinCodeError("Enter the join code your instructor gave you.", code="missing")
    classroom = Classroom.objects.filter(join_code=normalized).first()
    if classroom is None:
        raise JoinCodeError(
            "That join code does not match any class. Check it with your instructor.",
            code="unknown",
        )
    if not classroom.join_code_is_open():
        raise JoinCodeError(
            "That join code has expired. Ask your instructor for a new one.", code="expired"
        )
    return classroom


@transaction.atomic
def student_signup(
    *, username: str, password: str, email: str = "", join_code: str
) -> tuple[AbstractBaseUser, Classroom]:
    """Create a student and enrol them, or create nothing at all.

    The join code is checked first: whether a username is taken is said only to someone
    holding a valid code. A name is taken in any case ("Sam" when "sam" exists); the
    database's unique index on LOWER(username) settles two concurrent sign-ups."""
    classroom = classroom_for_join_code(code=join_code)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": USERNAME_TAKEN})
    user = User(username=username, email=email)
    user.set_password(password)
    user.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise ValidationError({"username": USERNAME_TAKEN}) from exc
    Enrollment.objects.create(classroom=classroom, student=user)
    roster_notify(classroom_ids=[classroom.pk])
    return user, classroom


@transaction.atomic
def enrollment_join(*, student: AbstractBaseUser, join_code: str) -> tuple[Classroom, bool]:
    """Enrol an existing user in another class. Joining twice is harmless."""
    classroom = classroom_for_join_code(code=join_code)
    _, created = Enrollment.objects.get_or_create(classroom=classroom, student=student)
    if created:
        roster_notify(classroom_ids=[classroom.pk])
    return classroom, created


def roster_notify(*, classroom_ids: list[int]) -> None:
    """Tell every app that these classes' rosters changed (an app keeping per-class
    figures recounts them), in the same transaction as the change."""
    for _, hook in app_hooks("roster_changed"):
        hook(classroom_ids=classroom_ids)


@transaction.atomic
def join_code_regenerate(*, classroom: Classroom) -> str:
    """Give the class a fresh code; the old one stops working at once."""
    for _ in range(5):
        candidate = new_join_code()
        if not Classroom.objects.filter(join_code=candidate).exists():
            break
    classroom.join_code = candidate
    classroom.join_code_expires_at = None
    classroom.full_clean()
    classroom.save(update_fields=["join_code", "join_code_expires_at"])
    return candidate


@transaction.atomic
def instructor_make(
    *, username: str, email: str = "", password: str | None = None
) -> tuple[AbstractBaseUser, bool]:
    """Create (or promote) an instructor. Instructors are not staff: admin stays admin-only."""
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
    elif created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    group, _ = Group.objects.get_or_create(name=INSTRUCTOR_GROUP)
    user.groups.add(group)
    return user, created


def progress_mark_seen(*, user: AbstractBaseUser, section: Section | int) -> None:
    """Record a learner's first view of a section: one insert that a reload or a second
    tab cannot duplicate (the row exists already: nothing happens). Callers skip it when
    the outline they read shows the section seen, so later views write nothing."""
    if not user.is_authenticated:
        return
    section_id = section if isinstance(section, int) else section.pk
    SectionProgress.objects.bulk_create(
        [SectionProgress(user=user, section_id=section_id, first_seen_at=timezone.now())],
        ignore_conflicts=True,
    )


@transaction.atomic
def progress_mark_done(*, user: AbstractBaseUser, section: Section) -> None:
    """Record that a section was finished; the first finishing time is kept."""
    if not user.is_authenticated:
        return
    now = timezone.now()
    SectionProgress.objects.bulk_create(
        [SectionProgress(user=user, section=section, first_seen_at=now, done_at=now)],
        ignore_conflicts=True,
    )
    SectionProgress.objects.filter(user=user, section=section, done_at__isnull=True).update(
        done_at=now
    )


@transaction.atomic
def progress_follow_activity(*, section: Section, users, done_user_ids: set[int]) -> None:
    """Demo data: make `section`'s progress say what the activity behind it says. Of
    `users`, those in `done_user_ids` have it done (and seen); the others do not have it
    done. Used by the apps' demo hooks so that a demo student who finished the activity
    never reads "Not started" beside it, and one who did not never reads "Done"."""
    now = timezone.now()
    done = [user for user in users if user.pk in done_user_ids]
    SectionProgress.objects.bulk_create(
        [
            SectionProgress(user=user, section=section, first_seen_at=now, done_at=now)
            for user in done
        ],
        ignore_conflicts=True,
    )
    SectionProgress.objects.filter(user__in=done, section=section, done_at__isnull=True).update(
        done_at=now
    )
    others = [user for user in users if user.pk not in done_user_ids]
    SectionProgress.objects.filter(user__in=others, section=section).update(done_at=None)
