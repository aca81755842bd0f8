"""Issue 12: the lesson text of the reward-profile, policy, RLAIF and class-preferences
pages moves from templates into admin-editable teaching texts. Installs that already
loaded the content get the new blocks here (the loader adds them on a fresh install);
a block an admin has already created under the same key is left alone.

Self-contained: the text lives here, not in the content files, so this migration does
the same thing whatever those files say later.
"""

import secrets

from django.db import migrations

TEXTS = [
    {
        "key": "class-split",
        "title": "How the class split on each pair",
        "body": "For each pair: how many chose each response, and the share who chose whichever "
        "response was shown on the *left*. Each student saw the two responses in a random "
        "order, so a class without position bias picks the left one about half the time. On "
        "one pair each student picks once, so the per-pair 95 % Wilson interval treats the "
        "picks as independent and shows how far from one half chance alone could take the "
        "share.",
    },
    {
        "key": "class-position-bias",
        "title": "Position bias over all pairs",
        "body": "The *All pairs* row pools every pick, but one student's six picks are not six "
        "independent draws: someone who habitually clicks the left response does so on every "
        "pair. Its interval is therefore **learner-clustered**: each student counts as one "
        "cluster, the spread between students sets the width (a cluster-robust standard "
        "error with Student's t on the number of students less one), and it is never "
        "narrower than the interval for independent picks. When students differ in their "
        "habits it is much wider than a plain interval over all picks would be.",
    },
    {
        "key": "class-agreement",
        "title": "How much the labelers agree",
        "body": "**Pairwise agreement** is the chance that two students, picked at random, chose the "
        "same response of a pair, averaged over the pairs. InstructGPT's labelers agreed "
        "with each other 72.6 ± 1.5 % of the time (Ouyang et al., “Training language models "
        "to follow instructions with human feedback”, arXiv 2203.02155).\n"
        "\n"
        "**Agreement beyond chance** asks how much of that a coin would have produced. With "
        "two responses, two students picking at random agree half the time, so the figure "
        "shown is Bennett's S = 2 × pairwise agreement − 1 (Bennett, Alpert and Goldstein, "
        "“Communications through limited response questioning”, Public Opinion Quarterly "
        "18(3), 1954): 0 means no more agreement than coin flips, 1 means every pair "
        "unanimous, and a negative value means the pairs split more evenly than coin flips "
        "would.\n"
        "\n"
        "Why not Fleiss' kappa, the usual figure for many raters? Its idea of chance comes "
        "from how often each *category* won across all the items, and here the categories "
        "are “response A” and “response B”: names the content happens to give each pair's "
        "two responses, which mean nothing from one pair to the next. If most pairs' "
        "favourite happens to be called A, kappa's chance term is high and kappa comes out "
        "near zero even while most students agree; call the same favourites B on half the "
        "pairs and, with identical picks, kappa jumps. For six pairs each split 27 to 3, "
        "renaming alone moves kappa from −0.03 to 0.63. S does not depend on the names, so "
        "it is the one shown here. It rests on only a handful of pairs, so read it as a "
        "description of this class on these pairs, not a property of the students.",
    },
    {
        "key": "class-models",
        "title": "The class reward model and each student's",
        "body": "The class reward model is one Bradley–Terry fit over every pick in the class: a "
        "weight per trait, with an answer's reward the sum of its trait values times the "
        "weights. Each student also has their own model, fitted to their own picks in the "
        "same way and with the same prior (the one they saw on their reward profile). The "
        "charts show how the students' weights spread, with the class model's weight marked "
        "by a line. Two things set how far apart they are. Students who disagree pull the "
        "class model's weights towards zero, since it has to fit everyone's picks at once, "
        "while each student's picks agree with themselves, so their own weights can be "
        "larger. And the Gaussian prior that keeps six picks from producing infinite weights "
        "weighs about as much as six picks, while next to a class's hundreds of picks it "
        "hardly counts: a student's weights say as much about the prior's strength as about "
        "the student.",
    },
    {
        "key": "class-heldout",
        "title": "What a model trained on this class would say",
        "body": "For each prompt nobody labeled, the class reward model's pick is the "
        "highest-scoring candidate on the list: an argmax over the listed candidates, which "
        "is what best-of-n sampling approaches as n grows. Beside it: how many students' own "
        "reward models would pick each candidate. Where the two differ, the class model is "
        "averaging away what individual students wanted. The candidate answers were written "
        "for this course.",
    },
    {
        "key": "class-outliers",
        "title": "Labelers furthest from the majority",
        "body": "These students most often picked the response most of the class did not. "
        "Disagreement is not a mistake: it is what a single reward model cannot represent, "
        "and a good start for a discussion.",
    },
    {
        "key": "profile-model",
        "title": "Your reward model",
        "body": "A reward model gives every answer a score. Ours is the simplest kind: a weight per "
        "trait, and an answer's reward is the sum of its trait values times those weights, "
        "r(y) = w · traits(y). The weights were fitted to your picks with the Bradley–Terry "
        "model (Bradley and Terry, 1952): the chance that you prefer answer A to answer B is "
        "σ(r(A) − r(B)), where σ is the logistic function. Christiano et al. (2017) trained "
        "reward models from pairwise human picks in this way, and Stiennon et al. (2020) "
        "brought it to language models. Fitting is logistic regression on the trait "
        "differences between the answer you chose and the one you rejected, together with a "
        "prior, explained below.",
    },
    {
        "key": "profile-prior",
        "title": "Six picks and a prior",
        "body": "Six picks are very little data for six weights. Any six picks on six different "
        "pairs can be explained perfectly, and with nothing else to go on the best fit would "
        "send the weights off to infinity. So the fit adds a penalty of (λ/2) · ‖w‖², an "
        "**L2 penalty of strength λ**. That is the same as a **Gaussian prior**: before "
        "seeing any pick, the model assumes each weight is drawn from a normal distribution "
        "with mean 0 and variance 1/λ, and the weights shown are the most probable ones once "
        "your picks are in.\n"
        "\n"
        "A weak prior (small λ) lets the model follow every pick with large weights; a "
        "strong prior pulls every weight towards zero and every prediction towards a coin "
        "flip, whatever you picked. The default, λ = 0.1 (a prior standard deviation of "
        "about 3 per weight), is the strongest step at which every consistent set of picks "
        "on these pairs is given back: the model gives each of your picks more than a 50 % "
        "chance. Move λ and watch the weights and P(your pick) below change: that is the "
        "prior, not your picks, at work.",
    },
    {
        "key": "profile-loss",
        "title": "How well the model fits each pick",
        "body": "On each pick the reward model is trained to make −log σ(r(chosen) − r(rejected)) "
        "small. A model that guessed by coin flip would score log 2 ≈ 0.693 on every pick. "
        "With a weak prior a consistent labeler's picks are fitted almost exactly and the "
        "loss falls towards zero; as λ grows, the prior holds every probability near one "
        "half and the loss rises towards log 2. A high loss at a strong prior says more "
        "about the prior than about your picks.",
    },
    {
        "key": "profile-heldout",
        "title": "What a model trained on your picks would choose",
        "body": "These prompts were not in your six pairs. Each has a short list of candidate "
        "answers, written for this course, scored with your reward model. The pick shown is "
        "the highest-scoring answer on the list: an argmax over the listed candidates, which "
        "is the limit that best-of-n reaches as n grows. Real best-of-n draws n answers from "
        "the reference (SFT) model and keeps the one the reward model likes best (Stiennon "
        "et al. 2020); the table under each prompt gives its exact expected reward for n = "
        "1, 2, 4 and 8 when the n answers are drawn from this list with the reference "
        "model's probabilities. Those probabilities are illustrative: set for this course, "
        "not measured from a real model.",
    },
    {
        "key": "profile-steps",
        "title": "The three steps of RLHF, with your picks as step one",
        "body": "1. **Collect comparisons.** People see two answers to one prompt and pick one. You "
        "just did this six times; InstructGPT's labelers ranked 4 to 9 answers per prompt "
        "for about 33,000 prompts (arXiv 2203.02155), and Llama 2 gathered over 1.4 million "
        "comparisons (arXiv 2307.09288).\n"
        "2. **Train a reward model.** A copy of the SFT model with its language-model head "
        "swapped for a single number is trained with the Bradley–Terry loss above "
        "(Christiano et al. 2017; Stiennon et al. 2020). Your tiny version over six traits "
        "is the chart on this page.\n"
        "3. **Optimise the policy.** The language model is tuned (InstructGPT used PPO) to "
        "raise that reward while a KL penalty keeps it near the SFT model. The next section "
        "lets you turn that penalty's weight, β.",
    },
    {
        "key": "policy-objective",
        "title": "From reward to policy",
        "body": "RLHF's last step tunes the model to maximise reward minus a penalty: E[r(y)] − β · "
        "KL(π ‖ π_ref), where π_ref is the SFT model (Stiennon et al. 2020; Ouyang et al. "
        "2022). Over a fixed set of candidate answers this has an exact solution, π\\*(y) ∝ "
        "π_ref(y) · exp(r(y)/β), and that is what the chart shows, with *your* reward model "
        "as r.\n"
        "\n"
        "The candidate answers were written for this course, and their reference "
        "probabilities π_ref are **illustrative**: set for this course to look like a "
        "plausible SFT model, not measured from one.",
    },
    {
        "key": "policy-betas",
        "title": "Small β, large β",
        "body": "**Small β: the policy chases your reward.** The penalty barely counts, so π\\* "
        "piles its probability onto whichever candidate your six-trait reward scores "
        "highest, even a reply the SFT model almost never writes, such as a three-word "
        "answer if you rewarded brevity, or a flat redirect if you rewarded caution. The "
        "proxy reward goes up while the answer a person would want can get worse: that is "
        "reward hacking. Gao et al. measured it at scale against a larger “gold” reward "
        "model standing in for people: as a policy moves away from its start, the proxy "
        "reward keeps rising while the gold reward first rises and then falls (“Scaling Laws "
        "for Reward Model Overoptimization”, arXiv 2210.10760). Stiennon et al. saw the same "
        "rise and fall in human judgements of summaries (arXiv 2009.01325).\n"
        "\n"
        "**Large β: the policy stays with the reference.** Moving away from π_ref costs more "
        "than any reward gain, so π\\* stays close to the SFT model and KL goes to zero; the "
        "model learns little from the preferences.\n"
        "\n"
        "**Real values.** InstructGPT used β = 0.02 for its KL penalty (Ouyang et al., "
        "“Training language models to follow instructions with human feedback”, arXiv "
        "2203.02155). DPO's default is β = 0.1, and a larger β keeps the policy closer to "
        "the reference (Rafailov et al., “Direct Preference Optimization: Your Language "
        "Model is Secretly a Reward Model”, arXiv 2305.18290). What a given β does depends "
        "on how wide the rewards are: π\\* can shift the odds between two candidates by at "
        "most a factor exp(spread / β), where the spread is the gap between the highest and "
        "lowest reward.",
    },
    {
        "key": "policy-best-of-n",
        "title": "Best-of-n on this prompt",
        "body": "Best-of-n is the other common way to use a reward model: draw n answers from the "
        "reference model and keep the one with the highest reward (Stiennon et al. 2020; "
        "Llama 3 used it, as rejection sampling, in every round of its post-training, arXiv "
        "2407.21783). The table gives its exact expected reward when the n answers are drawn "
        "from this prompt's candidates with the illustrative π_ref probabilities (with "
        "replacement, so the same answer can come up twice). At n = 1 it is the reference "
        "model's expected reward; as n grows it approaches the best candidate's reward, the "
        "argmax the reward profile shows.",
    },
    {
        "key": "rlaif-intro",
        "title": "Labels from a constitution",
        "body": "In Constitutional AI (Bai et al., “Constitutional AI: Harmlessness from AI "
        "Feedback”, arXiv 2212.08073) no person labels any output as harmful: the human "
        "harmlessness labels are replaced in two phases. First, the model critiques and "
        "revises its own answers against a principle drawn from a list of 16, and is "
        "fine-tuned on the revisions (the previous page). Second, a feedback model reads two "
        "samples and picks the better one by a principle (again from 16); those AI labels, "
        "mixed with human labels for helpfulness, train the preference model used for RL. "
        "Anthropic has published the constitution it uses to train Claude (“Claude's "
        "Constitution”, 2023).\n"
        "\n"
        "Here the “AI labeler” is deliberately simple: each principle adds weight to some "
        "traits, and the labeler picks whichever answer of a pair scores higher. When the "
        "chosen principles score both answers the same, it has no preference: that pair is a "
        "tie, and it counts neither for nor against agreement. Choose the principles it "
        "should follow and compare its picks with yours.",
    },
    {
        "key": "rlaif-after",
        "title": "Where you and the constitution part",
        "body": "Where you disagree, either your taste is not in the principles you chose, or the "
        "principles pull against each other. A real constitution faces the same problem at "
        "scale: a short list of principles has to stand in for many people's judgement. The "
        "pairs' answers were written for this course.",
    },
]


def add_page_texts(apps, schema_editor):
    TeachingText = apps.get_model("courseware", "TeachingText")
    ContentVersion = apps.get_model("courseware", "ContentVersion")
    if not TeachingText.objects.exists():
        return  # a fresh install: load_content creates every block
    made = 0
    for item in TEXTS:
        fields = {k: v for k, v in item.items() if k != "key"}
        made += TeachingText.objects.get_or_create(key=item["key"], defaults=fields)[1]
    if made:
        # Every server process drops the content it kept and reads the new rows.
        ContentVersion.objects.update_or_create(pk=1, defaults={"token": secrets.randbits(62) + 1})


def remove_page_texts(apps, schema_editor):
    TeachingText = apps.get_model("courseware", "TeachingText")
    for item in TEXTS:
        TeachingText.objects.filter(key=item["key"], body=item["body"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("courseware", "0005_correct_shipped_text"),
    ]

    operations = [
        migrations.RunPython(add_page_texts, remove_page_texts),
    ]
