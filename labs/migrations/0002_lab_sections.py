"""Issue 14: add the three lab sections to an install that already loaded the module.

The loader creates a section only where its slug is missing and, when its order is
taken, puts it last; so on an existing install it would append the labs after the
closing page. This migration puts them where they belong instead: the over-optimisation
and optimiser labs just after the reward-to-policy page, RL with verifiable rewards just
after the RLAIF page, and renumbers the sections so that every other one keeps its place
relative to the rest (an admin's own sections included).

Self-contained: the text lives here, not in the content files. On a fresh database there
is nothing to move and the loader brings all the sections.
"""

import secrets

from django.db import migrations

COURSE = "language-models"
MODULE = "post-training"
# Each new section goes just after the section with this url_name or slug (or last).
AFTER = {
    "over-optimisation": "labeling:policy",
    "optimisers": "over-optimisation",
    "rlvr": "labeling:rlaif",
}
# Sections an older install may still lack, which the loader adds at the order the content
# file gives them: the renumbering leaves their place free (issue 12's critique step,
# between the optimiser lab and the RLAIF page, and the closing page after the quiz).
RESERVE = [("critique", "optimisers"), ("closing", "quiz:quiz")]
SECTIONS = [
    {
        "slug": "over-optimisation",
        "title": "Over-optimisation lab",
        "url_name": "labs:overoptimisation",
        "summary": "Push a policy against your own reward model and watch a better-informed reward disagree.",
        "body": "Your six picks gave you a reward model. It is a *proxy*: six comparisons seen through a handful of traits. Here a policy is optimised against it exactly, for every KL weight β, and a better-informed *gold* reward scores the result: your class's reward model when enough classmates have finished labeling, otherwise your own picks between held-out answers. Where the two disagree, the proxy keeps rising as the policy moves away from the reference while the gold rises and then falls. Gao et al. measured this curve at scale, with a larger reward model standing in for people as the gold (“Scaling Laws for Reward Model Overoptimization”, arXiv 2210.10760); Stiennon et al. saw it with human judges (“Learning to summarize from human feedback”, arXiv 2009.01325). It is why RLHF keeps the KL leash.",
    },
    {
        "slug": "optimisers",
        "title": "Step the optimisers",
        "url_name": "labs:optimisers",
        "summary": "Run a policy gradient with a KL penalty, and DPO, yourself, one step at a time.",
        "body": "The policy page computed the optimal policy π\\*_β in one line. Real training never sees that formula: it takes gradient steps. Here you take them yourself, a policy gradient with a KL penalty on one held-out prompt and DPO on your own six pairs, and watch each approach what the closed form says.",
    },
    {
        "slug": "rlvr",
        "title": "RL with verifiable rewards",
        "url_name": "labs:rlvr",
        "summary": "When an answer can be checked, the reward is the checker's 1 or 0: GRPO and rejection sampling.",
        "body": "When an answer can be checked (a sum, a unit conversion, a format rule), no learned reward model is needed for a policy to exploit: the reward is 1 if a checker accepts the answer, else 0. Tülu 3 calls this RL with verifiable rewards (Lambert et al., arXiv 2411.15124); DeepSeekMath's GRPO scores each answer against the mean of a group sampled for the same prompt (Shao et al., arXiv 2402.03300); DeepSeek-R1 trained long reasoning with rule-based rewards (arXiv 2501.12948).",
    },
]
# Orders are unique within a module: every section is moved out of the way first.
PARK = 10000


def add_lab_sections(apps, schema_editor):
    Module = apps.get_model("courseware", "Module")
    Section = apps.get_model("courseware", "Section")
    ContentVersion = apps.get_model("courseware", "ContentVersion")
    module = Module.objects.filter(course__slug=COURSE, slug=MODULE).first()
    if module is None or not Section.objects.filter(module=module).exists():
        return  # a fresh database: the loader brings every section in place
    current = list(Section.objects.filter(module=module).order_by("order"))
    slugs = {s.slug for s in current}
    url_names = {s.url_name for s in current if s.url_name}
    ordered = list(current)
    for fields in SECTIONS:
        if fields["slug"] in slugs or fields["url_name"] in url_names:
            continue  # already there (a second run, or an admin made it)
        at = _position(ordered, AFTER[fields["slug"]])
        at = len(ordered) - 1 if at is None else at
        ordered.insert(at + 1, Section(module=module, **{**fields, "order": 2 * PARK}))
    if len(ordered) == len(current):
        return
    for slug, anchor in RESERVE:
        if slug not in slugs:
            at = _position(ordered, anchor)
            if at is not None:
                ordered.insert(at + 1, None)  # a gap: no row takes this order
    for row in current:
        row.order += PARK
        row.save(update_fields=["order"])
    for position, row in enumerate(ordered, start=1):
        if row is not None:
            row.order = position
            row.save()
    # Every server process drops the outline it kept and reads the new one.
    ContentVersion.objects.update_or_create(pk=1, defaults={"token": secrets.randbits(62) + 1})


def _position(ordered: list, anchor: str) -> int | None:
    return next(
        (i for i, s in enumerate(ordered) if s is not None and anchor in (s.url_name, s.slug)),
        None,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("courseware", "0005_correct_shipped_text"),
        ("labs", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(add_lab_sections, migrations.RunPython.noop),
    ]
