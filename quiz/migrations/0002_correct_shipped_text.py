"""Issue 12: correct quiz explanations (and two choice texts) that earlier releases
shipped, on installs that already loaded them; the loader never overwrites a row.

A field is corrected only while it still holds the text we shipped, so an admin's edit
is never overwritten. Choices are found by their question's slug and their order.
Self-contained: the text lives here, whatever the content file says later.
"""

import secrets

from django.db import migrations

CORRECTIONS = {
    "base-model-behaviour/1": {
        "explanation": (
            "Right. A base model imitates the documents it was "
            "trained on, and a line like this often sits in a "
            "list of similar lines. The InstructGPT paper "
            "shows GPT-3 doing exactly this (arXiv "
            "2203.02155).",
            "Right. A base model imitates the documents it was "
            "trained on, and a line like this often sits in a "
            "list of similar lines. OpenAI published GPT-3 "
            "doing exactly this (“Aligning language models to "
            "follow instructions”, 2022, with the InstructGPT "
            "paper, arXiv 2203.02155).",
        )
    },
    "base-model-behaviour/3": {
        "explanation": (
            "Refusals are learned behaviour from "
            "safety-focused post-training. A base model has no "
            "notion of when to refuse.",
            "Refusals are learned from harmlessness preference "
            "data and safety-focused fine-tuning (Bai et al., "
            "arXiv 2204.05862; Llama 2, arXiv 2307.09288, "
            "section 4), not from pre-training. A base model "
            "has no notion of when to refuse.",
        )
    },
    "labeler-agreement/1": {
        "explanation": (
            "Right (arXiv 2203.02155). Roughly one comparison in "
            "four is contested, so a reward model trained on such "
            "labels learns a noisy average taste, and about 73% "
            "is also a sensible ceiling for how well it can agree "
            "with a new labeler.",
            "Right (arXiv 2203.02155). Roughly one comparison in "
            "four is contested, so a reward model trained on such "
            "labels learns an average taste. The 73% is not a "
            "ceiling on how often a model can agree with a new "
            "labeler, though: a model that predicts what most "
            "labelers would pick can agree with any one of them "
            "more often than two individual labelers agree with "
            "each other.",
        )
    },
    "kl-penalty-purpose/1": {
        "explanation": (
            "Right. The reward model is only an imperfect proxy. "
            "Pushed far enough, a policy finds answers the proxy "
            "overrates; the true quality first rises and then "
            "falls while the proxy keeps rising (Gao et al., "
            "arXiv 2210.10760). InstructGPT used β = 0.02 (arXiv "
            "2203.02155).",
            "Right. The reward model is only an imperfect proxy. "
            "Pushed far enough, a policy finds answers the proxy "
            "overrates: human judges saw quality first rise and "
            "then fall while the proxy kept rising (Stiennon et "
            "al., arXiv 2009.01325), and Gao et al. measured the "
            "same shape against a larger “gold” reward model "
            "(arXiv 2210.10760). InstructGPT used β = 0.02 "
            "(arXiv 2203.02155).",
        )
    },
    "kl-penalty-purpose/3": {
        "explanation": (
            "The penalty says nothing about length. In fact, "
            "reward models often favour longer answers (Singhal "
            "et al., arXiv 2310.03716), which is one of the "
            "flaws the penalty helps contain.",
            "Making answers shorter is not its purpose, though "
            "it is not blind to length either: the penalty is a "
            "sum of per-token terms over the whole response, so "
            "a longer answer that differs from the SFT model "
            "pays more. Reward models often favour longer "
            "answers (Singhal et al., arXiv 2310.03716), one of "
            "the flaws the penalty helps contain.",
        )
    },
    "dpo-no-reward-model/1": {
        "explanation": (
            "Right. Because the KL-regularised objective has a "
            "closed-form optimum, the reward can be written as "
            "β·log(π/π_ref) plus a term that cancels in a "
            "comparison. The pairwise loss then trains the "
            "policy itself. Llama 3 used SFT, rejection "
            "sampling and DPO rather than PPO (arXiv "
            "2407.21783).",
            "Right. Because the KL-regularised objective has a "
            "closed-form optimum, the reward can be written as "
            "β·log(π/π_ref) plus a term that cancels in a "
            "comparison. The pairwise loss then trains the "
            "policy itself. Llama 3 used SFT, rejection "
            "sampling and DPO rather than PPO (arXiv "
            "2407.21783), though it still trained reward models "
            "to pick the best of several samples; Mixtral "
            "8x7B-Instruct was trained with SFT then DPO (arXiv "
            "2401.04088).",
        )
    },
    "constitutional-ai-stages/2": {
        "text": (
            "Thousands of people label every pair for harmlessness, as in InstructGPT.",
            "People label every pair for harmlessness, as in Anthropic's earlier HH-RLHF data.",
        ),
        "explanation": (
            "The point of Constitutional AI is to replace "
            "human harmlessness labels with AI ones. "
            "People still supply the helpfulness labels "
            "and write the principles.",
            "That was Anthropic's earlier HH-RLHF work "
            "(arXiv 2204.05862), where people compared "
            "answers for harmlessness. Constitutional AI "
            "used no human harmlessness labels at all; "
            "people still supply the helpfulness labels "
            "and write the principles.",
        ),
    },
    "post-training-compute/1": {
        "explanation": (
            "Right: 4.9 / 3,640 ≈ 0.13% and 60 / 3,640 ≈ "
            "1.6%. Compute is not what limits post-training; "
            "human data is.",
            "Right: 4.9 / 3,640 ≈ 0.13% and 60 / 3,640 ≈ "
            "1.6%. PPO-ptx cost about twelve times as much as "
            "SFT, but both are tiny beside pre-training.",
        )
    },
    "data-scale/1": {
        "text": (
            "Trillions of tokens for pre-training, then tens of thousands of "
            "demonstrations, then hundreds of thousands to millions of "
            "comparisons.",
            "Trillions of tokens for pre-training, then thousands to hundreds "
            "of thousands of demonstrations, then hundreds of thousands to "
            "millions of comparisons.",
        ),
        "explanation": (
            "Right. Llama 3: about 15T tokens (arXiv 2407.21783); "
            "InstructGPT: about 13k SFT prompts and about 33k "
            "reward-model prompts, each giving several pairs (arXiv "
            "2203.02155); Llama 2: about 1.4M Meta comparisons (arXiv "
            "2307.09288).",
            "Right. Llama 3: about 15T tokens (arXiv 2407.21783); "
            "InstructGPT: about 13k SFT prompts and about 33k "
            "reward-model prompts, each giving several pairs (arXiv "
            "2203.02155); Tülu 3's SFT mix: about 939k examples (arXiv "
            "2411.15124); Llama 2: about 1.4M Meta comparisons (arXiv "
            "2307.09288).",
        ),
    },
    "data-scale/3": {
        "explanation": (
            "The reverse. Post-training data is small but expensive, "
            "because people write or judge every example.",
            "The reverse. Post-training data sets are far smaller than "
            "pre-training's; what makes them expensive is that people "
            "write or judge much of them.",
        )
    },
    "data-scale/4": {
        "explanation": (
            "SFT sets are usually 10^4–10^5 examples, and reward models "
            "are trained on 10^5–10^6 comparisons; Llama 2 collected "
            "over 1.4 million.",
            "SFT sets run from about 10^4 examples (InstructGPT, about "
            "13k) to about 10^6 (Tülu 3's mix, about 939k; arXiv "
            "2411.15124), and reward models are trained on 10^5–10^6 "
            "comparisons; Llama 2 collected over 1.4 million.",
        )
    },
}


def correct_shipped_text(apps, schema_editor):
    Choice = apps.get_model("quiz", "Choice")
    ContentVersion = apps.get_model("courseware", "ContentVersion")
    changed_any = False
    for key, fields in CORRECTIONS.items():
        slug, order = key.rsplit("/", 1)
        for choice in Choice.objects.filter(question__slug=slug, order=int(order)):
            changed = [name for name, (old, _) in fields.items() if getattr(choice, name) == old]
            for name in changed:
                setattr(choice, name, fields[name][1])
            if changed:
                choice.save(update_fields=changed)
                changed_any = True
    if changed_any:
        # Every server process drops the bank it kept and reads the corrected rows.
        ContentVersion.objects.update_or_create(pk=1, defaults={"token": secrets.randbits(62) + 1})


class Migration(migrations.Migration):
    dependencies = [
        ("quiz", "0001_initial"),
        ("courseware", "0003_content_version_first_view_only"),
    ]

    operations = [
        migrations.RunPython(correct_shipped_text, migrations.RunPython.noop),
    ]
