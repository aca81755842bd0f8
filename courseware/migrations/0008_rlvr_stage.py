"""Issue 14: "RL with verifiable rewards" joins the pipeline as a stage after
Constitutional AI, and the closing table as a row, with its sources (Tülu 3 is already there; DeepSeekMath and
DeepSeek-R1 are new). Installs that already loaded the content get them here (the loader
adds them on a fresh install); a stage or source an admin already made under the same
key is left alone.

Self-contained: the text lives here, not in the content files, so this migration does
the same thing whatever those files say later.
"""

import secrets

from django.db import migrations
from django.db.models import Max

SOURCES = [
    {
        "key": "deepseekmath",
        "title": "DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language "
        "Models",
        "authors": "Shao et al.",
        "year": 2024,
        "arxiv_id": "2402.03300",
    },
    {
        "key": "deepseek-r1",
        "title": "DeepSeek-R1: Incentivizing Reasoning Capability in LLMs via Reinforcement "
        "Learning",
        "authors": "DeepSeek-AI",
        "year": 2025,
        "arxiv_id": "2501.12948",
    },
]

STAGE = {
    "slug": "rlvr",
    "order": 7,
    "group": "modern",
    "title": "RL with verifiable rewards",
    "short_title": "RLVR",
    "summary": "When an answer can be checked, let the checker be the reward: no reward model to "
    "fool.",
    "takes_in": "A tuned model and prompts whose answers a program can check: maths with a known "
    "result, code with tests, instructions with a rule such as “answer in exactly "
    "five words”.",
    "gives_out": "A model that gets checkable tasks right more often, trained by RL against the "
    "checker's 1 or 0.",
    "objective": "```\n"
    "maximise  E[ r(x, y) ] − β·KL(π ‖ π_ref)     r(x, y) = 1 if the checker "
    "accepts y, else 0\n"
    "GRPO:     A_i = (r_i − mean(r_1..r_G)) / std(r_1..r_G)   over G answers to one "
    "prompt\n"
    "```",
    "objective_words": "The same KL-penalised objective as RLHF, but the reward is a checker's "
    "verdict instead of a learned reward model's score. GRPO samples a group "
    "of G answers to each prompt and scores each answer against its own "
    "group: better than the group's average is pushed up, worse is pushed "
    "down, and no value network is trained. A group whose answers all score "
    "the same has zero advantage everywhere and teaches nothing.",
    "data_scale": "Prompts with checkable answers rather than human comparisons: Tülu 3 used "
    "maths problems and instructions with verifiable constraints after its SFT and "
    "DPO stages.",
    "adds": "Reliability on tasks with a right answer, without a reward model that the policy "
    "could learn to exploit; DeepSeek-R1 showed that large-scale RL against rule-based "
    "rewards on maths and code produces long, self-checking reasoning.",
    "cannot": "Only what a program can check gets rewarded: open-ended helpfulness, tone and "
    "safety still need preference data. A checker that accepts wrong answers (a loose "
    "format rule, a test suite with gaps) is a reward that can be hacked too.",
    "body": "In the “RL with verifiable rewards” lab later in the module you run GRPO yourself "
    "on a few checkable tasks written for the course, watch accuracy rise, see why "
    "groups that all score the same teach nothing, and turn the KL weight.",
    "sources": ["tulu3", "deepseekmath", "deepseek-r1"],
}


RECAP = {'slug': 'rlvr',
 'order': 7,
 'stage': 'rlvr',
 'name': 'RL with verifiable rewards',
 'data': 'Prompts whose answers a program can check (maths, instructions with a verifiable '
         'rule, code with tests); no human comparisons.',
 'algorithm': "RL against the checker's 1 or 0 with a KL penalty; GRPO scores each of G "
              "answers against its group's mean and spread, with no value network.",
 'adds': 'More right answers on checkable tasks, with nothing between the policy and the '
         'checker to exploit; at scale, long self-checking reasoning (DeepSeek-R1).',
 'compute': 'No published figure.',
 'people': 'People write the tasks and their checkers; no labels per answer.',
 'sources': ['tulu3', 'deepseekmath', 'deepseek-r1']}


def add_stage(apps, schema_editor):
    PipelineStage = apps.get_model("courseware", "PipelineStage")
    Source = apps.get_model("courseware", "Source")
    ContentVersion = apps.get_model("courseware", "ContentVersion")
    if not PipelineStage.objects.exists():
        return  # a fresh install: load_content creates the stage and its sources
    for item in SOURCES:
        Source.objects.get_or_create(
            key=item["key"], defaults={k: v for k, v in item.items() if k != "key"}
        )
    if PipelineStage.objects.filter(slug=STAGE["slug"]).exists():
        return
    fields = {k: v for k, v in STAGE.items() if k not in ("slug", "sources")}
    # After every stage there is (an admin may have used order 7 already).
    last = PipelineStage.objects.aggregate(last=Max("order"))["last"] or 0
    fields["order"] = max(STAGE["order"], last + 1)
    stage = PipelineStage.objects.create(slug=STAGE["slug"], **fields)
    stage.sources.set(Source.objects.filter(key__in=STAGE["sources"]))
    RecapRow = apps.get_model("courseware", "RecapRow")
    if not RecapRow.objects.filter(slug=RECAP["slug"]).exists():
        last = RecapRow.objects.aggregate(last=Max("order"))["last"] or 0
        fields = {k: v for k, v in RECAP.items() if k not in ("slug", "stage", "sources")}
        fields["order"] = max(RECAP["order"], last + 1)
        row = RecapRow.objects.create(slug=RECAP["slug"], stage=stage, **fields)
        row.sources.set(Source.objects.filter(key__in=RECAP["sources"]))
    # Every server process drops the content it kept and reads the new rows.
    ContentVersion.objects.update_or_create(pk=1, defaults={"token": secrets.randbits(62) + 1})


def remove_stage(apps, schema_editor):
    PipelineStage = apps.get_model("courseware", "PipelineStage")
    RecapRow = apps.get_model("courseware", "RecapRow")
    RecapRow.objects.filter(slug=RECAP["slug"], name=RECAP["name"]).delete()
    PipelineStage.objects.filter(slug=STAGE["slug"], title=STAGE["title"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("courseware", "0007_username_unique_ignoring_case"),
    ]

    operations = [
        migrations.RunPython(add_stage, remove_stage),
    ]
