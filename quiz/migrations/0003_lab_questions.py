"""Issue 14: the quiz bank grows by five questions on the labs (over-optimisation,
best-of-n's KL, DPO's likelihood displacement, GRPO's advantages, verifiable rewards),
with a topic for RL with verifiable rewards.

On an install that already loaded the bank the loader would add them too (it creates
what is missing), but only when someone runs it; this adds them at migrate time, where
an order is taken putting each one last. Self-contained: the text lives here, not in
the content file. A fresh database is left to the loader.
"""

import secrets

from django.db import migrations, models

COURSE = "language-models"
MODULE = "post-training"
QUESTIONS = [
    {
        "slug": "overoptimisation-gold",
        "order": 16,
        "topic": "rlhf",
        "text": "A policy is optimised harder and harder against a learned reward model (the KL weight β "
        "made smaller and smaller). What did Gao et al. find happens to the “gold” reward, the "
        "better judge the proxy stands in for?",
        "choices": [
            {
                "text": "It rises at first and then falls, while the proxy reward model's own score "
                "keeps rising.",
                "is_correct": True,
                "explanation": "Right. Early on the proxy and the gold agree, so pushing helps; "
                "further out the policy exploits what the proxy gets wrong and the "
                "gold falls. Gao et al. measured it with a much larger reward model "
                "as the gold, standing in for people, not with people (“Scaling Laws "
                "for Reward Model Overoptimization”, arXiv 2210.10760); Stiennon et "
                "al. saw the same turn with human judges (arXiv 2009.01325). The "
                "over-optimisation lab draws it on your own reward model.",
            },
            {
                "text": "Both keep rising together: a higher proxy score always means a better "
                "answer.",
                "is_correct": False,
                "explanation": "That would hold only for a perfect proxy. A reward model learned "
                "from a limited set of comparisons has flaws, and a policy optimised "
                "hard enough finds them: the proxy keeps rising while the gold turns "
                "down (Gao et al., arXiv 2210.10760).",
            },
            {
                "text": "The gold falls from the very first step: any optimisation against a "
                "learned reward is reward hacking.",
                "is_correct": False,
                "explanation": "Not in their measurements: with a small KL budget the policy moves "
                "towards answers both rewards like, and the gold rises. Only past a "
                "point does it fall, which is why RLHF keeps a KL penalty rather "
                "than giving up on optimisation.",
            },
            {
                "text": "The proxy score falls while the gold keeps rising.",
                "is_correct": False,
                "explanation": "The policy is optimised for the proxy, so the proxy's expected "
                "score can only go up as β falls: the optimal policy at each β is "
                "the best the proxy can get for that distance from the reference. It "
                "is the gold that eventually falls.",
            },
        ],
    },
    {
        "slug": "best-of-n-kl",
        "order": 17,
        "topic": "rlhf",
        "text": "Best-of-n draws n answers from the reference model and keeps the one the reward model "
        "scores highest. How far does that move the policy from the reference, by the formula "
        "Stiennon et al. and Gao et al. use?",
        "choices": [
            {
                "text": "KL = log n − (n − 1)/n nats: it grows only with the logarithm of n.",
                "is_correct": True,
                "explanation": "Right. For n = 64 that is about 3.17 nats, so best-of-n buys its "
                "gains with little KL (Stiennon et al., arXiv 2009.01325; Gao et "
                "al., arXiv 2210.10760). Over a small finite set of answers the "
                "exact KL is lower still; the over-optimisation lab shows both.",
            },
            {
                "text": "KL = n nats: each extra sample moves the policy one nat further.",
                "is_correct": False,
                "explanation": "Far too large. Keeping the best of n draws changes the distribution "
                "much less than that: the KL grows like log n, about 3.17 nats at n "
                "= 64.",
            },
            {
                "text": "KL = 0: best-of-n only keeps answers the reference model wrote, so it "
                "never moves away from it.",
                "is_correct": False,
                "explanation": "Choosing among the reference model's samples still changes how "
                "often each answer comes out: the proxy's favourites become more "
                "likely. Only n = 1 leaves the reference policy unchanged (log 1 − 0 "
                "= 0).",
            },
            {
                "text": "KL = log n exactly.",
                "is_correct": False,
                "explanation": "Close for large n, but the formula subtracts (n − 1)/n: at n = 2 it "
                "is log 2 − 1/2 ≈ 0.19 nats, not 0.69.",
            },
        ],
    },
    {
        "slug": "dpo-likelihood-displacement",
        "order": 18,
        "topic": "dpo",
        "text": "While DPO trains on a preference pair, the margin β·log(π/π_ref) of the chosen answer "
        "over the rejected one keeps growing. What can happen to the probability of the chosen "
        "answer itself?",
        "choices": [
            {
                "text": "It can fall: the loss only asks the chosen answer to gain on the rejected "
                "one, and both can lose probability to other answers.",
                "is_correct": True,
                "explanation": "Right. The DPO loss depends only on the difference of the two "
                "log-ratios, so the margin can grow while both log-probabilities "
                "drop and the mass moves to answers outside the pair. Razin et al. "
                "call this likelihood displacement and show it can move probability "
                "to answers opposite in meaning to the chosen one (“Unintentional "
                "Unalignment: Likelihood Displacement in Direct Preference "
                "Optimization”, arXiv 2410.08847).",
            },
            {
                "text": "It must rise, because the DPO loss pushes the chosen answer up.",
                "is_correct": False,
                "explanation": "The loss rewards a larger gap, not a larger chosen probability. "
                "Pushing the rejected answer down faster than the chosen one falls "
                "also widens the gap, and in practice the chosen likelihood often "
                "decreases (Razin et al., arXiv 2410.08847).",
            },
            {
                "text": "It stays fixed: DPO only lowers the rejected answer.",
                "is_correct": False,
                "explanation": "Nothing holds it fixed. Both answers share the model's parameters, "
                "and a gradient step moves both log-probabilities (and those of "
                "every other answer).",
            },
            {
                "text": "It rises towards 1, because the loss is smallest when the policy always "
                "gives the chosen answer.",
                "is_correct": False,
                "explanation": "Driving the rejected answer's probability towards 0 shrinks the "
                "loss just as well, without lifting the chosen answer at all; "
                "nothing in the loss asks the chosen answer to reach 1.",
            },
        ],
    },
    {
        "slug": "grpo-zero-advantage",
        "order": 19,
        "topic": "rlvr",
        "text": "GRPO samples a group of answers to one prompt and gives each answer the advantage (r − "
        "mean)/std of its group's rewards. A checker scores all eight answers of a group 1 (all "
        "correct). What does this group teach the policy?",
        "choices": [
            {
                "text": "Nothing: every advantage is 0, so the group contributes no gradient.",
                "is_correct": True,
                "explanation": "Right. With identical rewards each r − mean is 0 (implementations "
                "guard the division by a zero standard deviation). The same holds "
                "when every answer is wrong: only prompts the policy sometimes gets "
                "right and sometimes wrong teach it anything. GRPO is from "
                "DeepSeekMath (Shao et al., arXiv 2402.03300).",
            },
            {
                "text": "A strong push towards these answers, because all of them were right.",
                "is_correct": False,
                "explanation": "The advantage is measured against the group's own mean, not against "
                "zero: an answer is pushed up only if it scored better than its "
                "siblings. Here none did.",
            },
            {
                "text": "A push away from them, because after normalising their advantages are "
                "negative.",
                "is_correct": False,
                "explanation": "Subtracting the mean of identical rewards leaves exactly 0, neither "
                "positive nor negative.",
            },
            {
                "text": "It depends on the value network's estimate of how hard the prompt is.",
                "is_correct": False,
                "explanation": "GRPO has no value network: the group's mean reward takes its place "
                "as the baseline, which is what makes it cheaper than PPO (Shao et "
                "al., arXiv 2402.03300).",
            },
        ],
    },
    {
        "slug": "verifiable-rewards",
        "order": 20,
        "topic": "rlvr",
        "text": "In RL with verifiable rewards (Tülu 3's RLVR, DeepSeek-R1's rule-based rewards), where "
        "does the reward come from?",
        "choices": [
            {
                "text": "A checker: 1 if the answer can be verified as correct (the maths result "
                "matches, the format rule is met), otherwise 0.",
                "is_correct": True,
                "explanation": "Right. There is no learned reward model whose flaws the policy "
                "could exploit, so this reward cannot be over-optimised the way a "
                "proxy can; the price is that it only works for tasks a program can "
                "check (Tülu 3, Lambert et al., arXiv 2411.15124; DeepSeek-R1, arXiv "
                "2501.12948).",
            },
            {
                "text": "A reward model trained on human comparisons, as in RLHF.",
                "is_correct": False,
                "explanation": "That is RLHF's reward, a learned proxy that can be over-optimised. "
                "RLVR replaces it with a check of the answer for tasks where one "
                "exists.",
            },
            {
                "text": "A larger model that rates each answer from 1 to 10.",
                "is_correct": False,
                "explanation": "That is a model acting as judge: AI feedback, still a learned "
                "judgement that a policy can learn to please. A verifiable reward is "
                "a rule applied to the answer.",
            },
            {
                "text": "The policy's own log-probability of its answer: confident answers are "
                "rewarded.",
                "is_correct": False,
                "explanation": "Confidence is not correctness, and rewarding it would only make the "
                "policy more certain of whatever it already says. RLVR checks the "
                "answer against something outside the model.",
            },
        ],
    },
]


#: The quiz's intro names the topics: corrected where it still holds the shipped text.
INTRO = (
    "Five questions, drawn from a bank that covers every stage of the pipeline: pre-training, supervised fine-tuning, reward modelling, RLHF with its KL penalty, DPO and Constitutional AI. You pass with **four right out of five**. After you submit, every choice explains why it is right or wrong, and you can try again with a fresh draw as often as you like.",
    "Five questions, drawn from a bank that covers every stage of the pipeline: pre-training, supervised fine-tuning, reward modelling, RLHF with its KL penalty and over-optimisation, DPO, Constitutional AI and RL with verifiable rewards. You pass with **four right out of five**. After you submit, every choice explains why it is right or wrong, and you can try again with a fresh draw as often as you like.",
)


def add_lab_questions(apps, schema_editor):
    Quiz = apps.get_model("quiz", "Quiz")
    Question = apps.get_model("quiz", "Question")
    Choice = apps.get_model("quiz", "Choice")
    ContentVersion = apps.get_model("courseware", "ContentVersion")
    quiz = Quiz.objects.filter(module__course__slug=COURSE, module__slug=MODULE).first()
    if quiz is None:
        return  # a fresh database: the loader brings the whole bank
    made = 0
    if quiz.intro == INTRO[0]:
        quiz.intro = INTRO[1]
        quiz.save(update_fields=["intro"])
        made += 1
    for data in QUESTIONS:
        if Question.objects.filter(quiz=quiz, slug=data["slug"]).exists():
            continue
        fields = {k: v for k, v in data.items() if k not in {"slug", "choices"}}
        if Question.objects.filter(quiz=quiz, order=fields["order"]).exists():
            last = Question.objects.filter(quiz=quiz).order_by("-order").first()
            fields["order"] = last.order + 1
        question = Question.objects.create(quiz=quiz, slug=data["slug"], **fields)
        Choice.objects.bulk_create(
            Choice(question=question, order=order, **choice)
            for order, choice in enumerate(data["choices"], start=1)
        )
        made += 1
    if made:
        ContentVersion.objects.update_or_create(pk=1, defaults={"token": secrets.randbits(62) + 1})


class Migration(migrations.Migration):
    dependencies = [
        ("courseware", "0005_correct_shipped_text"),
        ("quiz", "0002_correct_shipped_text"),
    ]

    operations = [
        migrations.AlterField(
            model_name="question",
            name="topic",
            field=models.CharField(
                choices=[
                    ("pretraining", "Pre-training"),
                    ("sft", "Supervised fine-tuning"),
                    ("reward", "Reward modelling"),
                    ("rlhf", "RLHF with PPO and the KL penalty"),
                    ("dpo", "Direct preference optimisation"),
                    ("cai", "Constitutional AI and RLAIF"),
                    ("rlvr", "RL with verifiable rewards and GRPO"),
                    ("pipeline", "The pipeline as a whole"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(add_lab_questions, migrations.RunPython.noop),
    ]
