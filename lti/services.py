"""Writes for LTI: the tool's keys, what a launch binds, the roster, deep-linking replies.

Grade passback (the score outbox) is in lti/passback.py; `attempt_graded` below is the
quiz's seam into it (courseware.plugins), so the quiz never imports this app.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException
from pylti1p3.lineitem import LineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.registration import Registration
from requests import RequestException

from courseware import services as courseware_services
from courseware.models import Classroom, Enrollment, Module, Section
from courseware.numbers import parse_int
from courseware.roles import INSTRUCTOR_GROUP
from quiz.models import Quiz

from . import adapters, passback
from .claims import Launch, RosterMember, Target, parse_roster, username_base
from .models import LtiContext, LtiUser, Membership, Platform, ResourceLink, ToolKey

User = get_user_model()

KEY_BITS = 2048
QUIZ_URL_NAME = "quiz:quiz"


class LaunchRefused(ValueError):
    """A launch that validated but that this tool cannot serve (say why, write nothing)."""


class ServiceUnavailable(RuntimeError):
    """The platform did not answer a service call as it should (nothing was changed)."""


# ------------------------------------------------------------------- plugin seams


def attempt_graded(*, attempt) -> None:
    """courseware.plugins hook, called by quiz.services.attempt_submit inside its
    transaction: queue the learner's best score for their LMS (sent after the commit)."""
    passback.attempt_graded(attempt=attempt)


# ---------------------------------------------------------------------- the tool's keys


def tool_key_create() -> ToolKey:
    """A new RSA key pair; the newest active key signs, every active key is published."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    kid = secrets.token_urlsafe(18)
    jwk = dict(Registration.get_jwk(public_pem))  # the library's JWK (jwcrypto), alg RS256
    jwk["kid"] = kid
    key = ToolKey(kid=kid, private_key=private_pem, public_jwk=jwk)
    key.full_clean()
    key.save()
    return key


# ----------------------------------------------------------------------------- launches


@dataclass(frozen=True)
class LaunchOutcome:
    user: AbstractBaseUser
    classroom: Classroom
    is_instructor: bool
    landing: str


def _new_local_user(*, name: str, email: str) -> AbstractBaseUser:
    """A fresh account for a platform's user: a generated unique username, no usable
    password (they come in through the LMS), name and email as the platform sent them.
    Never an existing account, whatever the email says."""
    first, _, last = name.partition(" ")
    base = username_base(name, email)
    for _ in range(10):
        user = User(
            username=f"{base}-{secrets.token_hex(3)}",
            email=email,
            first_name=first[:150],
            last_name=last[:150],
        )
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            continue  # the suffix was taken: draw another
        return user
    raise LaunchRefused("Could not make an account name; please launch again.")


def lti_user_for(*, platform: Platform, sub: str, name: str, email: str) -> LtiUser:
    """The link for (platform, sub), made with a new local account on first sight.
    A later launch updates the name and email the link (and its account) show."""
    link = LtiUser.objects.select_related("user").filter(platform=platform, sub=sub).first()
    if link is None:
        try:
            with transaction.atomic():
                user = _new_local_user(name=name, email=email)
                return LtiUser.objects.create(
                    platform=platform, sub=sub, user=user, name=name, email=email
                )
        except IntegrityError:
            # Two first launches at once: the other one made the link; use it.
            link = LtiUser.objects.select_related("user").get(platform=platform, sub=sub)
    if (name and link.name != name) or (email and link.email != email):
        LtiUser.objects.filter(pk=link.pk).update(name=name or link.name, email=email or link.email)
        user = link.user
        if email:
            user.email = email
        if name:
            user.first_name, _, user.last_name = name.partition(" ")
        user.save(update_fields=["email", "first_name", "last_name"])
    return link


def _target(target: Target, link: ResourceLink | None) -> tuple[Module, Section | None]:
    """What the link opens: its custom parameters, else what it opened before, else the
    newest published module with sections."""
    modules = Module.objects.select_related("course")
    if target.module:
        lookup = {"slug": target.module}
        if target.course:
            lookup["course__slug"] = target.course
        module = modules.filter(**lookup).first()
        if module is None:
            raise LaunchRefused(
                f"This link opens a module that does not exist here ({target.module!r})."
            )
        section = None
        if target.section:
            section = Section.objects.filter(module=module, slug=target.section).first()
            if section is None:
                raise LaunchRefused(
                    f"This link opens a section that does not exist ({target.section!r})."
                )
        return module, section
    if link is not None:
        return link.module, link.section
    module = modules.filter(is_published=True, sections__isnull=False).order_by("-number").first()
    if module is None:
        raise LaunchRefused("There is no published module to open yet.")
    return module, None


def _class_name(title: str, course_id: int) -> str:
    base = (title or "LMS course")[:180]
    taken = {
        name.lower()
        for name in Classroom.objects.filter(
            course_id=course_id, name__istartswith=base
        ).values_list("name", flat=True)
    }
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base} ({n})"
    return name


def context_for(
    *, platform: Platform, context_id: str, title: str, module: Module, memberships_url: str
) -> LtiContext:
    """The class bound to an LMS course, created (with its class) on the first launch."""
    context = (
        LtiContext.objects.select_related("classroom")
        .filter(platform=platform, context_id=context_id)
        .first()
    )
    if context is None:
        try:
            with transaction.atomic():
                classroom = Classroom.objects.create(
                    name=_class_name(title, module.course_id), course=module.course
                )
                return LtiContext.objects.create(
                    platform=platform,
                    context_id=context_id,
                    title=title,
                    classroom=classroom,
                    memberships_url=memberships_url,
                )
        except IntegrityError:
            context = LtiContext.objects.select_related("classroom").get(
                platform=platform, context_id=context_id
            )
    changes = {}
    if title and title != context.title:
        changes["title"] = title
    if memberships_url and memberships_url != context.memberships_url:
        changes["memberships_url"] = memberships_url
    if changes:
        LtiContext.objects.filter(pk=context.pk).update(**changes)
        for field, value in changes.items():
            setattr(context, field, value)
    return context


def _place(*, context: LtiContext, user: AbstractBaseUser, instructor: bool) -> None:
    """Instructors teach the class (and join the Instructors group); others are enrolled
    (and the apps hear that the class changed, as for a join code)."""
    classroom = context.classroom
    if instructor:
        courseware_services.instructor_make(username=user.get_username())
        classroom.instructors.add(user)
        return
    _, created = Enrollment.objects.get_or_create(classroom=classroom, student=user)
    if created:
        courseware_services.roster_notify(classroom_ids=[classroom.pk])


def _membership_launched(
    *, context: LtiContext, lti_user: LtiUser, roles: tuple[str, ...], instructor: bool
) -> None:
    now = timezone.now()
    Membership.objects.bulk_create(
        [
            Membership(
                context=context,
                lti_user=lti_user,
                roles=list(roles),
                is_instructor=instructor,
                status=Membership.Status.ACTIVE,
                first_launch_at=now,
                last_launch_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["context", "lti_user"],
        update_fields=["roles", "is_instructor", "status", "last_launch_at"],
    )
    # A member synced from the roster before has no first launch yet.
    Membership.objects.filter(
        context=context, lti_user=lti_user, first_launch_at__isnull=True
    ).update(first_launch_at=now)


def _resource_link(
    *, context: LtiContext, launch: Launch, module: Module, section: Section | None
) -> ResourceLink:
    grades = launch.grades
    fields = {
        "title": launch.resource_link_title,
        "module": module,
        "section": section,
        "ags_scopes": list(grades.scopes) if grades else [],
        "lineitems_url": grades.lineitems if grades else "",
    }
    if grades and grades.lineitem:
        fields["lineitem_url"] = grades.lineitem
    link, _ = ResourceLink.objects.update_or_create(
        context=context, resource_link_id=launch.resource_link_id, defaults=fields
    )
    return link


@transaction.atomic
def launch_accept(*, platform: Platform, launch: Launch) -> LaunchOutcome:
    """Everything a validated resource-link (or deep-linking) launch binds: the user's
    link and account, the class for the LMS course, their place in it, the link's
    target and grade service. Where the user lands: instructors on the class view,
    everyone else on the module or the section the link opens."""
    if not launch.sub:
        raise LaunchRefused("This launch names no user.")
    resource_launch = bool(launch.resource_link_id) and not launch.is_deep_linking
    existing = (
        ResourceLink.objects.select_related("module__course", "section")
        .filter(
            context__platform=platform,
            context__context_id=launch.context_id,
            resource_link_id=launch.resource_link_id,
        )
        .first()
        if resource_launch
        else None
    )
    module, section = _target(launch.target, existing)
    lti_user = lti_user_for(platform=platform, sub=launch.sub, name=launch.name, email=launch.email)
    context = context_for(
        platform=platform,
        context_id=launch.context_id,
        title=launch.context_title,
        module=module,
        memberships_url=launch.memberships_url,
    )
    instructor = launch.is_instructor
    _place(context=context, user=lti_user.user, instructor=instructor)
    _membership_launched(
        context=context, lti_user=lti_user, roles=launch.roles, instructor=instructor
    )
    if resource_launch:
        _resource_link(context=context, launch=launch, module=module, section=section)
    if instructor:
        landing = reverse("courseware:classroom", kwargs={"pk": context.classroom_id})
    else:
        landing = (section or module).get_absolute_url()
    return LaunchOutcome(
        user=lti_user.user, classroom=context.classroom, is_instructor=instructor, landing=landing
    )


# ------------------------------------------------------------------------------- roster


@dataclass(frozen=True)
class RosterResult:
    members: int
    new_accounts: int
    inactive: int


def roster_fetch(*, context: LtiContext, timeout: float) -> list[dict]:
    """The LMS course's members, from its Names and Role Provisioning Service."""
    if not context.memberships_url:
        raise ServiceUnavailable(
            "This LMS course does not offer its roster to the tool (no Names and Roles "
            "service in its launches)."
        )
    connector = adapters.service_connector(context.platform, timeout=timeout)
    service = NamesRolesProvisioningService(
        connector, {"context_memberships_url": context.memberships_url}
    )
    try:
        return [member for member in service.get_members() if isinstance(member, dict)]
    except (LtiException, RequestException, ValueError, KeyError) as exc:
        raise ServiceUnavailable(
            f"{context.platform.name} did not send the roster ({exc.__class__.__name__}). "
            "Nothing was changed; try again later."
        ) from exc


# New accounts are made in one batch; a batch whose usernames were taken meanwhile is
# drawn again (a few times at most: the random suffix makes a clash rare).
USERNAME_DRAWS = 3


def _new_local_users(members: list[RosterMember]) -> dict[str, AbstractBaseUser]:
    """{sub: a fresh account} for members never seen, made in one INSERT (plus one
    query to check the drawn usernames): a class of thousands costs what a class of
    three does. Never an existing account, whatever the email says."""
    for _ in range(USERNAME_DRAWS):
        names = {m.sub: f"{username_base(m.name, m.email)}-{secrets.token_hex(4)}" for m in members}
        if (
            len(set(names.values())) < len(names)
            or User.objects.filter(username__in=list(names.values())).exists()
        ):
            continue
        users = []
        for member in members:
            first, _, last = member.name.partition(" ")
            user = User(
                username=names[member.sub],
                email=member.email,
                first_name=first[:150],
                last_name=last[:150],
            )
            user.set_unusable_password()
            users.append(user)
        try:
            with transaction.atomic():
                made = User.objects.bulk_create(users)
        except IntegrityError:
            continue  # a username was taken between the check and the insert
        return {member.sub: user for member, user in zip(members, made, strict=True)}
    raise ServiceUnavailable("Could not make account names for the new members; sync again.")


def _place_many(*, context: LtiContext, learners: list[int], instructors: list[int]) -> None:
    """`_place` for a whole roster, in a fixed number of queries."""
    classroom = context.classroom
    if instructors:
        group, _ = Group.objects.get_or_create(name=INSTRUCTOR_GROUP)
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=pk, group_id=group.pk) for pk in instructors],
            ignore_conflicts=True,
        )
        Classroom.instructors.through.objects.bulk_create(
            [
                Classroom.instructors.through(classroom_id=classroom.pk, user_id=pk)
                for pk in instructors
            ],
            ignore_conflicts=True,
        )
    if learners:
        enrolled = set(
            Enrollment.objects.filter(classroom=classroom, student_id__in=learners).values_list(
                "student_id", flat=True
            )
        )
        missing = [pk for pk in learners if pk not in enrolled]
        if missing:
            Enrollment.objects.bulk_create(
                [Enrollment(classroom=classroom, student_id=pk) for pk in missing],
                ignore_conflicts=True,
            )
            courseware_services.roster_notify(classroom_ids=[classroom.pk])


@transaction.atomic
def roster_apply(*, context: LtiContext, members: list[dict]) -> RosterResult:
    """Make every member known: a link and account for those never seen, their place in
    the class; members who never launched show as "not started". Members the LMS marks
    inactive keep their account and work, flagged inactive.

    Bulk reads and upserts: the same dozen queries or so for 3 members or 3,000."""
    platform = context.platform
    roster = parse_roster(members)
    links = {
        link.sub: link
        for link in LtiUser.objects.select_related("user").filter(
            platform=platform, sub__in=[m.sub for m in roster]
        )
    }
    made = _new_local_users([m for m in roster if m.sub not in links])
    # One upsert for every link: new ones with their new account, known ones with the
    # name and email the LMS sends now (an empty value keeps what we had).
    upsert = [
        LtiUser(
            platform=platform,
            sub=m.sub,
            user=made[m.sub] if m.sub in made else links[m.sub].user,
            name=m.name or (links[m.sub].name if m.sub in links else ""),
            email=m.email or (links[m.sub].email if m.sub in links else ""),
        )
        for m in roster
    ]
    if upsert:
        LtiUser.objects.bulk_create(
            upsert,
            update_conflicts=True,
            unique_fields=["platform", "sub"],
            update_fields=["name", "email"],
        )
    linked = {
        link.sub: link
        for link in LtiUser.objects.filter(platform=platform, sub__in=[m.sub for m in roster])
    }
    # A first launch that linked a member while we were making their account wins;
    # the account we made for them is not used.
    orphans = [u.pk for sub, u in made.items() if linked[sub].user_id != u.pk]
    if orphans:
        User.objects.filter(pk__in=orphans).delete()
    _update_known_accounts(roster, links)
    if roster:
        Membership.objects.bulk_create(
            [
                Membership(
                    context=context,
                    lti_user=linked[m.sub],
                    roles=list(m.roles),
                    is_instructor=m.instructor,
                    status=Membership.Status.ACTIVE if m.active else Membership.Status.INACTIVE,
                )
                for m in roster
            ],
            update_conflicts=True,
            unique_fields=["context", "lti_user"],
            update_fields=["roles", "is_instructor", "status"],
        )
    _place_many(
        context=context,
        learners=[linked[m.sub].user_id for m in roster if m.active and not m.instructor],
        instructors=[linked[m.sub].user_id for m in roster if m.active and m.instructor],
    )
    LtiContext.objects.filter(pk=context.pk).update(roster_synced_at=timezone.now())
    return RosterResult(
        members=len(roster),
        new_accounts=len(made) - len(orphans),
        inactive=sum(not m.active for m in roster),
    )


def _update_known_accounts(roster: list[RosterMember], links: dict[str, LtiUser]) -> None:
    """Known accounts take the name and email the LMS sends now: one UPDATE."""
    changed = []
    for m in roster:
        link = links.get(m.sub)
        if link is None:
            continue
        user = link.user
        first, _, last = m.name.partition(" ")
        wanted = {
            "email": m.email or user.email,
            "first_name": first[:150] if m.name else user.first_name,
            "last_name": last[:150] if m.name else user.last_name,
        }
        if any(getattr(user, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(user, field, value)
            changed.append(user)
    if changed:
        User.objects.bulk_update(changed, ["email", "first_name", "last_name"])


def roster_sync(*, context: LtiContext, timeout: float = adapters.HTTP_TIMEOUT_SECONDS):
    """Fetch (outside any transaction: the LMS may be slow), then apply in one."""
    return roster_apply(context=context, members=roster_fetch(context=context, timeout=timeout))


# ------------------------------------------------------------------------ deep linking


@dataclass(frozen=True)
class DeepLinkReply:
    return_url: str
    jwt: str


def deep_link_choices(*, course_id: int | None = None) -> list[Module]:
    modules = Module.objects.select_related("course").filter(is_published=True)
    if course_id is not None:
        modules = modules.filter(course_id=course_id)
    return list(modules.prefetch_related("sections").order_by("course__title", "number"))


def deep_link_reply(
    *,
    platform: Platform,
    deployment_id: str,
    settings: dict,
    module: Module,
    section: Section | None,
    launch_url: str,
) -> DeepLinkReply:
    """The signed LtiDeepLinkingResponse placing one module or one section. A placement
    that includes the quiz asks the LMS for a gradebook column (scores 0 … questions)."""
    custom = {"course": module.course.slug, "module": module.slug}
    if section is not None:
        custom["section"] = section.slug
    resource = (
        DeepLinkResource()
        .set_url(launch_url)
        .set_title(f"{module.title}: {section.title}" if section else module.title)
        .set_custom_params(custom)
    )
    quiz = Quiz.objects.filter(module=module).first()
    if quiz is not None and (section is None or section.url_name == QUIZ_URL_NAME):
        resource.set_lineitem(
            LineItem()
            .set_score_maximum(quiz.questions_per_attempt)
            .set_label(f"{quiz.title}")
            .set_resource_id(f"{module.course.slug}/{module.slug}/quiz")
            .set_tag("quiz")
        )
    deep_link = DeepLink(adapters.ToolRegistration(platform), deployment_id, settings)
    return DeepLinkReply(
        return_url=settings["deep_link_return_url"],
        jwt=deep_link.get_response_jwt([resource]),
    )


def deep_link_target(*, value: str) -> tuple[Module, Section | None] | None:
    """Parse the picker's choice, "module:<id>" or "section:<id>"; None if it is not one."""
    kind, _, raw = value.partition(":")
    pk = parse_int(raw)
    if pk is None:
        return None
    if kind == "module":
        module = Module.objects.select_related("course").filter(pk=pk, is_published=True)
        found = module.first()
        return (found, None) if found else None
    if kind == "section":
        section = (
            Section.objects.select_related("module__course")
            .filter(Q(pk=pk) & Q(module__is_published=True))
            .first()
        )
        return (section.module, section) if section else None
    return None
