"""Issue 12: correct the teaching text that earlier releases shipped, on installs that
already loaded it (the loader never overwrites a row, so a fresh `load_content` cannot).

Each field is corrected only while it still holds the text we shipped: an admin's edit
is never overwritten. The sources the corrected text cites are added (and linked to
their stage when that stage's text was corrected), the published moon-landing outputs
are labelled with their provenance, and the sections after the reward-to-policy page
move up one place to make room for Constitutional AI's critique-and-revise step (the
loader adds that section and the closing one on its next run).

Self-contained: the text lives here, not in the content files, so this migration does
the same thing whatever those files say later.
"""

import secrets

from django.db import migrations

COURSE = "language-models"
MODULE = "post-training"
CRITIQUE_ORDER = 8  # where the new critique section goes: just before the RLAIF page

NEW_SOURCES = {
    "bradley-terry": {
        "title": "Rank Analysis of Incomplete Block Designs: I. The Method of Paired Comparisons",
        "authors": "Bradley and Terry",
        "year": 1952,
        "venue": "Biometrika 39 (3/4), 324–345",
        "link": "https://doi.org/10.2307/2334029",
    },
    "christiano": {
        "title": "Deep Reinforcement Learning from Human Preferences",
        "authors": "Christiano et al.",
        "year": 2017,
        "arxiv_id": "1706.03741",
    },
    "stiennon": {
        "title": "Learning to summarize from human feedback",
        "authors": "Stiennon et al.",
        "year": 2020,
        "arxiv_id": "2009.01325",
    },
    "openai-instruction-following": {
        "title": "Aligning language models to follow instructions",
        "authors": "OpenAI",
        "year": 2022,
        "venue": "OpenAI blog, January 2022, with the InstructGPT paper",
        "link": "https://openai.com/index/instruction-following/",
    },
    "claude-constitution": {
        "title": "Claude's Constitution",
        "authors": "Anthropic",
        "year": 2023,
        "venue": "Anthropic, May 2023 (the page has been revised since)",
        "link": "https://www.anthropic.com/news/claudes-constitution",
    },
    "singhal": {
        "title": "A Long Way to Go: Investigating Length Correlations in RLHF",
        "authors": "Singhal et al.",
        "year": 2023,
        "arxiv_id": "2310.03716",
    },
    "sharma": {
        "title": "Towards Understanding Sycophancy in Language Models",
        "authors": "Sharma et al.",
        "year": 2023,
        "arxiv_id": "2310.13548",
    },
    "mixtral": {
        "title": "Mixtral of Experts",
        "authors": "Jiang et al.",
        "year": 2024,
        "arxiv_id": "2401.04088",
    },
    "tulu3": {
        "title": "Tülu 3: Pushing Frontiers in Open Language Model Post-Training",
        "authors": "Lambert et al.",
        "year": 2024,
        "arxiv_id": "2411.15124",
    },
}

# The published outputs (verbatim, OpenAI, "Aligning language models to follow
# instructions", 2022): a row holding exactly this text is labelled as published.
PUBLISHED = {
    "sft/moon-landing": ("base_output", "GPT-3 (base model)"),
    "compare/moon-landing/base": ("text", "GPT-3 (base model)"),
    "compare/moon-landing/rlhf": ("text", "InstructGPT"),
}
PUBLISHED_SOURCE = "openai-instruction-following"

# (old shipped text, corrected text) per row and field; a field is corrected only
# while it still holds the old text, so an admin's edit is never overwritten.
CORRECTIONS = {
    "TeachingText": {
        "pipeline-compute": {
            "body": (
                "A common claim is that each stage needs about "
                "a hundred times less compute than the one "
                "before. The published numbers do not support "
                "that rule. The one case with public figures "
                "is InstructGPT: fine-tuning the "
                "175-billion-parameter model took **4.9** "
                "petaflop/s-days for SFT and **60** for "
                "PPO-ptx (reward-model training is smaller "
                "still), while pre-training GPT-3 took "
                "**3,640**. So SFT cost about 0.13 % and RL "
                "about 1.6 % of pre-training: two very "
                "different ratios, neither of them 1 %.\n"
                "\n"
                "The fair summary: post-training costs a few "
                "percent of pre-training or less, yet it "
                "decides most of what a user experiences. What "
                "does shrink sharply from stage to stage is "
                "the *amount of data*: trillions of tokens, "
                "then tens of thousands of demonstrations, "
                "then hundreds of thousands to millions of "
                "comparisons.",
                "A common claim is that each stage needs about "
                "a hundred times less compute than the one "
                "before. The published numbers do not support "
                "that rule. The one case with public figures "
                "is InstructGPT (section 5.1 of its paper): "
                "for the 175-billion-parameter model, SFT took "
                "**4.9** petaflop/s-days and PPO-ptx **60**, "
                "while pre-training GPT-3 took **3,640**. So "
                "SFT cost about 0.13 % and RL about 1.6 % of "
                "pre-training, and the RL step cost about **12 "
                "times** as much as the SFT step, not a "
                "hundred times less. No figure has been "
                "published for training the reward model, so "
                "none is given here.\n"
                "\n"
                "The fair summary: both post-training steps "
                "are tiny beside pre-training, a few percent "
                "of it or less. What does shrink sharply from "
                "stage to stage is the *amount of data*: "
                "trillions of tokens for pre-training, then "
                "10⁴ to 10⁶ demonstrations (about 13,000 for "
                "InstructGPT, about 939,000 in Tülu 3's SFT "
                "mix), then 10⁵ to 10⁶ comparisons.",
            )
        },
        "pipeline-modern": {
            "body": (
                "Since 2022 two ideas have changed how the last "
                "stages are run. **DPO** shows that the reward "
                "model and the RL loop can be folded into one "
                "supervised loss on the preference pairs. "
                "**Constitutional AI** replaces most human "
                "harmlessness labels with labels produced by a "
                "model that follows written principles.",
                "Since 2022 two ideas have changed how the last "
                "stages are run. **DPO** (Rafailov et al. 2023) "
                "folds the reward model and the RL loop into "
                "one supervised loss on the preference pairs. "
                "Llama 3 tuned its policy with DPO, though it "
                "still trained reward models to pick the best "
                "of several samples, and Mixtral 8x7B-Instruct "
                "was trained with SFT and then DPO. "
                "**Constitutional AI** (Bai et al. 2022) trains "
                "for harmlessness with no human harmlessness "
                "labels at all: a model that follows written "
                "principles first revises its own answers, then "
                "labels the comparisons, while people still "
                "label helpfulness. Anthropic has published the "
                "constitution used to train its Claude models "
                "(“Claude's Constitution”, May 2023).",
            )
        },
        "pretraining-model": {
            "body": (
                "This is a **word-level trigram model**: it "
                "predicts the next word from the two words "
                "before it. Its probabilities come from "
                "counting which words followed which pairs of "
                "words in its training text, smoothed with "
                "**interpolated Kneser–Ney** so that word "
                "sequences it never saw still get some "
                "probability. It was trained on the **King "
                "James Version of the Bible** (1611), a "
                "public-domain text of about 790,000 words, "
                "so its English is archaic: try *and the "
                "lord*, *in the beginning* or *thou shalt*. "
                "Words it saw fewer than twice are lumped "
                "together as one unknown word.\n"
                "\n"
                "Real language models differ in two big ways. "
                "They read **subword tokens** (pieces like "
                "*pre*, *train*, *ing*), so no word is ever "
                "truly unknown, and they are **transformers** "
                "that look at thousands of previous tokens, "
                "not two. Their objective, though, is the "
                "same cross-entropy you see here.",
                "This is a **word-level trigram model**: it "
                "predicts the next word from the two words "
                "before it. Its probabilities come from "
                "counting which words followed which pairs of "
                "words in its training text, smoothed with "
                "**interpolated Kneser–Ney** so that word "
                "sequences it never saw still get some "
                "probability. It was trained on the **King "
                "James Version of the Bible** in the 1769 "
                "Oxford standard text, the one commonly "
                "printed today (not the first printing of "
                "1611): about 790,000 words. The text is in "
                "the public domain in most countries; in the "
                "United Kingdom it is still under the Crown's "
                "perpetual rights (Crown copyright). Its "
                "English is archaic: try *and the lord*, *in "
                "the beginning* or *thou shalt*. Words it saw "
                "fewer than twice are lumped together as one "
                "unknown word.\n"
                "\n"
                "Real language models differ in two big ways. "
                "They read **subword tokens** (pieces like "
                "*pre*, *train*, *ing*), so no word is ever "
                "truly unknown, and they are **transformers** "
                "that look at thousands of previous tokens, "
                "not two. Their objective, though, is the "
                "same cross-entropy you see here.",
            )
        },
        "sft-masking": {
            "body": (
                "In each example below, the prompt tokens are shown "
                "struck through in a dashed box: they are context "
                "only and add nothing to the loss. The response "
                "tokens are shown underlined and highlighted: each "
                "of them adds −log p to the loss. Beside each "
                "example is what a base model did with the same "
                "prompt.",
                "In each example below, the prompt tokens are shown "
                "struck through in a dashed box: they are context "
                "only and add nothing to the loss. The response "
                "tokens are shown underlined and highlighted: each "
                "of them adds −log p to the loss. Beside each "
                "example is what a base model did with the same "
                "prompt, labelled with where it comes from: the "
                "first is GPT-3's published continuation, quoted "
                "word for word; the others were written for this "
                "course to show the same behaviour. The "
                "demonstrations were written for this course too.",
            )
        },
        "sft-scale": {
            "body": (
                "Far less than pre-training, and quality matters more "
                "than quantity. InstructGPT used about 13,000 prompts "
                "with answers written by roughly 40 contractors. "
                "Llama 2's authors stopped at 27,540 carefully "
                "written examples and set aside millions of examples "
                "from third parties. LIMA went further: 1,000 "
                "hand-picked examples and no RLHF at all produced "
                "answers that raters judged as good as or better than "
                "GPT-4's in 43 % of cases.\n"
                "\n"
                "**What SFT cannot teach.** It copies its "
                "demonstrations, no more. When two answers are both "
                "acceptable, nothing in SFT says which one people "
                "would rather read; and a model can only be as good "
                "as the examples people had time to write. Comparing "
                "answers is the job of the next stages.",
                "Far less than pre-training, and quality matters more "
                "than quantity. InstructGPT used about 13,000 prompts "
                "with answers written by roughly 40 contractors. "
                "Llama 2's authors stopped at 27,540 carefully "
                "written examples and set aside millions of examples "
                "from third parties. LIMA went further: 1,000 "
                "hand-picked examples and no RLHF at all produced "
                "answers that raters judged as good as or better than "
                "GPT-4's in 43 % of cases. Open recipes have since "
                "grown again: Tülu 3's SFT mix has about 939,000 "
                "examples.\n"
                "\n"
                "**What SFT cannot teach.** It copies its "
                "demonstrations, no more. When two answers are both "
                "acceptable, nothing in SFT says which one people "
                "would rather read; and a model can only be as good "
                "as the examples people had time to write. Comparing "
                "answers is the job of the next stages.",
            )
        },
        "compare-intro": {
            "body": (
                "Pick a prompt to see what a model stopped after "
                "each stage might write. The answers are written "
                "for this course to show behaviour that the "
                "papers document; they are not transcripts of a "
                "particular model. Read them with three questions "
                "in mind: does it answer at all, does it do what "
                "was asked, and does it use judgment?\n"
                "\n"
                "- The **base** model continues the text as if it "
                "were a page on the web.\n"
                "- The **SFT** model follows the instruction, "
                "faithfully and sometimes too literally.\n"
                "- The **RLHF** model adds judgment: it declines "
                "when it should, hedges when nobody can know, and "
                "corrects a question built on a false premise.",
                "Pick a prompt to see what a model stopped after "
                "each stage might write. Every answer says where "
                "it comes from. Two are **published** outputs, "
                "quoted word for word with their source: GPT-3 "
                "and InstructGPT answering the moon-landing "
                "prompt. The others were **written for this "
                "course** to show what a model at that stage "
                "tends to do; they are not transcripts of a "
                "particular model. Read them with three questions "
                "in mind: does it answer at all, does it do what "
                "was asked, and how does it handle a request that "
                "is risky, unanswerable or built on a false "
                "premise?\n"
                "\n"
                "- A **base** model tends to continue the text as "
                "if it were a page on the web.\n"
                "- An **SFT** model tends to follow the "
                "instruction, faithfully and sometimes too "
                "literally: it does what its demonstrations did.\n"
                "- A model tuned on **preferences** (the RLHF "
                "column) tends towards the answers its raters "
                "preferred, so its habits are set by that data. "
                "Declining harmful requests, in particular, comes "
                "from harmlessness preference data and "
                "safety-focused fine-tuning (Bai et al. 2022a; "
                "Llama 2, section 4), not from the RL step as "
                "such: InstructGPT, tuned to put helpfulness "
                "first, mostly followed harmful instructions.",
            )
        },
    },
    "PipelineStage": {
        "sft": {
            "data_scale": (
                "Thousands to tens of thousands of demonstrations: "
                "about 13,000 prompts for InstructGPT, 27,540 for "
                "Llama 2, and only 1,000 for LIMA.",
                "Thousands to hundreds of thousands of "
                "demonstrations: about 13,000 prompts for "
                "InstructGPT, 27,540 for Llama 2, only 1,000 for "
                "LIMA, and about 939,000 in Tülu 3's SFT mix.",
            )
        },
        "reward-model": {
            "objective_words": (
                "For each compared pair, push the "
                "score of the preferred answer above "
                "the score of the other one (the "
                "Bradley–Terry model: the probability "
                "that one answer wins is the sigmoid "
                "of the score difference).",
                "For each compared pair, push the "
                "score of the preferred answer above "
                "the score of the other one. This is "
                "the Bradley–Terry model of paired "
                "comparisons (Bradley and Terry, "
                "1952): the probability that one "
                "answer wins is the sigmoid of the "
                "score difference. Christiano et al. "
                "(2017) learned a reward model from "
                "pairwise human picks this way, and "
                "Stiennon et al. (2020) did it for "
                "language.",
            ),
            "cannot": (
                "It is only a proxy for human judgment. It "
                "inherits the raters' biases (longer answers, "
                "flattering answers) and can be fooled by "
                "answers unlike those it was trained on.",
                "It is only a proxy for human judgment, and it "
                "learns the raters' biases along with their "
                "taste. Reward models favour longer answers: in "
                "one study a reward for length alone reproduced "
                "most of RLHF's gains (Singhal et al. 2023). "
                "Human preference data, and the models trained "
                "on it, sometimes prefer answers that agree "
                "with the user to answers that are correct "
                "(sycophancy; Sharma et al. 2023). And a reward "
                "model can be fooled by answers unlike those it "
                "was trained on.",
            ),
        },
        "rlhf": {
            "data_scale": (
                "About 31,000 prompts for InstructGPT's PPO stage; "
                "the answers are generated by the model itself. For "
                "the 175B model this cost 60 petaflop/s-days, about "
                "1.6 % of GPT-3's pre-training.",
                "About 31,000 prompts for InstructGPT's PPO stage; "
                "the answers are generated by the model itself. For "
                "the 175B model this cost 60 petaflop/s-days: about "
                "12 times the SFT step (4.9), and still only about "
                "1.6 % of GPT-3's pre-training.",
            ),
            "adds": (
                "Judgment: declining harmful requests, hedging when "
                "unsure, answers pitched the way people prefer. "
                "InstructGPT's 1.3B model was preferred to the 175B "
                "GPT-3.",
                "Answers pitched the way the raters preferred: "
                "InstructGPT's 1.3B model was preferred to the 175B "
                "GPT-3. Which habits the model picks up (tone, hedging, "
                "declining harmful requests) depends on what the "
                "preference data rewarded. Refusals come from "
                "harmlessness preference data and safety-focused "
                "fine-tuning (Bai et al. 2022a; Llama 2, section 4), not "
                "from RL as such: InstructGPT, tuned mainly for "
                "helpfulness, mostly followed harmful instructions.",
            ),
            "cannot": (
                "It can only be as good as the reward model. Optimised "
                "too hard, the policy learns to please the proxy "
                "instead of people: the true quality first rises, then "
                "falls while the reward keeps climbing. The KL penalty "
                "is there to slow that down.",
                "It can only be as good as the reward model. Optimised "
                "too hard, the policy learns to please the proxy "
                "instead of people. Stiennon et al. (2020) saw this "
                "with human judges: as the policy moved further from "
                "its start, the quality people judged first rose and "
                "then fell, while the reward model's score kept "
                "climbing. Gao et al. (2022) measured the same rise and "
                "fall against a larger “gold” reward model standing in "
                "for people. The KL penalty is there to slow it down.",
            ),
            "body": (
                "",
                "The recipe (a reward model learned from human "
                "comparisons, then RL with a KL penalty towards the "
                "starting model) was shown on language by Stiennon et al. "
                "(2020), building on Christiano et al. (2017); "
                "InstructGPT applied it to following instructions.",
            ),
        },
        "dpo": {
            "data_scale": (
                "The same preference data as reward modelling. Llama "
                "3's post-training used SFT, rejection sampling and "
                "DPO instead of PPO.",
                "The same preference data as reward modelling. Llama "
                "3's post-training used SFT, rejection sampling and "
                "DPO instead of PPO; it still trained a reward model "
                "in each round, to pick the best of several samples "
                "(rejection sampling), not to run PPO. Mixtral "
                "8x7B-Instruct was trained with SFT and then DPO "
                "(Jiang et al. 2024).",
            )
        },
        "constitutional-ai": {
            "gives_out": (
                "A model trained to be harmless mostly "
                "from AI-written feedback rather than "
                "human harmlessness labels.",
                "A model trained for harmlessness "
                "without any human harmlessness labels: "
                "the harmlessness feedback is written "
                "by a model, while people still label "
                "helpfulness.",
            ),
            "data_scale": (
                "The human effort moves from labelling "
                "many examples to writing a few "
                "principles: the paper used 16 of "
                "them.",
                "For harmlessness, the human effort "
                "moves from labelling many examples to "
                "writing a few principles: the paper "
                "used 16 of them. Helpfulness is still "
                "labelled by people.",
            ),
            "adds": (
                "Labels at scale without crowds of human "
                "raters, and values that are written down "
                "where anyone can read and change them.",
                "Harmlessness labels at scale without human "
                "raters, and values that are written down "
                "where anyone can read and change them.",
            ),
            "body": (
                "Later in the module you will pick "
                "principles yourself and watch an AI labeler "
                "apply them.",
                "Anthropic has published the constitution "
                "used to train its Claude models (“Claude's "
                "Constitution”, May 2023): written "
                "principles are part of how deployed "
                "assistants are trained. Later in the module "
                "you do both phases yourself: pick a "
                "principle and watch an answer critiqued and "
                "revised against it, then choose principles "
                "for an AI labeler and compare its labels "
                "with yours.",
            ),
        },
    },
    "SFTExample": {
        "moon-landing": {
            "instruction": (
                "Explain the moon landing to a six-year-old in a few sentences.",
                "Explain the moon landing to a 6 year old in a few sentences.",
            ),
            "base_output": (
                "Explain the theory of gravity to a "
                "six-year-old.\n"
                "Explain the water cycle to a six-year-old in "
                "a few sentences.\n"
                "Explain evolution to a six-year-old in a few "
                "sentences.\n"
                "Explain why the sky is blue to a",
                "Explain the theory of gravity to a 6 year "
                "old.\n"
                "Explain the theory of relativity to a 6 year "
                "old in a few sentences.\n"
                "Explain the big bang theory to a 6 year "
                "old.\n"
                "Explain evolution to a 6 year old.",
            ),
            "note": (
                "The base model has seen many lists of writing "
                "prompts, so it treats this one as the first line of "
                "a list. The InstructGPT paper reports GPT-3 doing "
                "just this.",
                "This is GPT-3's published continuation, word for "
                "word. It has seen many lists of prompts like this "
                "one, so it treats the prompt as the first line of a "
                "list and writes more of the list.",
            ),
        }
    },
    "ComparePrompt": {
        "moon-landing": {
            "prompt": (
                "Explain the moon landing to a six-year-old.",
                "Explain the moon landing to a 6 year old in a few sentences.",
            ),
            "lesson": (
                "A plain request. Only the models that went "
                "through fine-tuning treat it as a request at "
                "all.",
                "A plain request, and the one prompt here with "
                "published answers: OpenAI showed GPT-3 and "
                "InstructGPT answering it. Only the fine-tuned "
                "models treat it as a request at all.",
            ),
        }
    },
    "CompareResponse": {
        "moon-landing/base": {
            "text": (
                "Explain the moon landing to a "
                "six-year-old.\n"
                "Explain photosynthesis to a "
                "six-year-old.\n"
                "Explain gravity to a six-year-old.\n"
                "Explain what a cloud is to a",
                "Explain the theory of gravity to a 6 year "
                "old.\n"
                "Explain the theory of relativity to a 6 "
                "year old in a few sentences.\n"
                "Explain the big bang theory to a 6 year "
                "old.\n"
                "Explain evolution to a 6 year old.",
            ),
            "note": (
                "The base model continues a pattern: a "
                "line like this usually sits in a list of "
                "similar prompts, so it writes more of the "
                "list.",
                "GPT-3's published continuation. A line "
                "like this usually sits in a list of "
                "similar prompts, so the base model writes "
                "more of the list.",
            ),
        },
        "moon-landing/rlhf": {
            "text": (
                "A long time ago, some astronauts flew a "
                "giant rocket all the way to the Moon! Two "
                "of them climbed out and went for a walk. "
                "The Moon has less pull than Earth, so "
                "they bounced like they were on a "
                "trampoline. They planted a flag, picked "
                "up some Moon rocks, and flew home safely.",
                "People went to the moon, and they took "
                "pictures of what they saw, and sent them "
                "back to the earth so we could all see "
                "them.",
            ),
            "note": (
                "The RLHF model answers for the audience "
                "that was asked for: short sentences, "
                "simple words, a vivid picture. Raters "
                "preferred answers like this, and the "
                "reward model learned that preference.",
                "InstructGPT's published answer: short, in "
                "simple words, for the child who was asked "
                "about. Its labelers preferred answers "
                "that followed the instruction, and the "
                "reward model and the RL step carried that "
                "preference into the model.",
            ),
        },
        "neighbours-house/rlhf": {
            "note": (
                "The RLHF model adds judgment: a safe "
                "refusal of the harmful reading, with "
                "helpful routes for the harmless ones. "
                "This is the kind of answer that "
                "safety reward models score highly.",
                "A safe refusal of the harmful "
                "reading, with helpful routes for the "
                "harmless ones. A model answers like "
                "this when its training data taught it "
                "to: harmlessness comparisons (as in "
                "Anthropic's HH-RLHF data) and "
                "safety-focused fine-tuning (as in "
                "Llama 2). RL on helpfulness alone "
                "does not produce it: InstructGPT "
                "mostly followed harmful "
                "instructions.",
            )
        },
        "einstein-nobel/rlhf": {
            "note": (
                "The RLHF model adds judgment by "
                "correcting the false premise before "
                "answering. Raters prefer an answer that "
                "sets the record straight to one that "
                "builds on an error.",
                "It corrects the false premise before "
                "answering. A preference-tuned model "
                "tends to do this when its raters "
                "preferred an answer that sets the "
                "record straight to one that builds on "
                "an error: the habit comes from those "
                "comparisons.",
            )
        },
        "stock-market/rlhf": {
            "note": (
                "The RLHF model adds judgment with a "
                "hedge: it says what is and is not "
                "knowable instead of inventing a forecast.",
                "It hedges: it says what is and is not "
                "knowable instead of inventing a forecast. "
                "A preference-tuned model tends to hedge "
                "like this when its raters rewarded "
                "honesty about uncertainty.",
            )
        },
        "great-wall/rlhf": {
            "note": (
                "The RLHF model adds judgment by correcting "
                "the false premise instead of making up a "
                "date.",
                "It corrects the false premise instead of "
                "making up a date, the kind of answer raters "
                "tend to prefer to a confident invention.",
            )
        },
        "headache/rlhf": {
            "note": (
                "The RLHF model adds judgment: it answers, "
                "hedges, and says when to stop self-treating. "
                "Helpfulness and safety reward models both "
                "favour answers like this.",
                "It answers, hedges, and says when to see a "
                "professional: a tendency that comes from "
                "preference data rewarding both helpfulness "
                "and safety (Llama 2, for one, trained a "
                "separate reward model for each).",
            )
        },
    },
    "Section": {
        "pre-training": {
            "summary": (
                "Query a next-token model trained on a public-domain book.",
                "Query a next-token model trained on the King James Bible.",
            )
        },
        "rlaif": {
            "body": (
                "Constitutional AI replaces many human labels with labels from "
                "a model that follows written principles.",
                "In Constitutional AI's second phase, a model that follows "
                "written principles labels the comparisons for harmlessness: "
                "no human harmlessness labels are used. People still label "
                "helpfulness.",
            )
        },
    },
}

STAGE_SOURCES = {
    "sft": ["tulu3"],
    "reward-model": ["christiano", "stiennon", "bradley-terry", "singhal", "sharma"],
    "rlhf": ["christiano", "stiennon", "hh-rlhf", "llama2"],
    "dpo": ["mixtral"],
    "constitutional-ai": ["claude-constitution"],
}


def _correct(row, fields: dict) -> list[str]:
    """Set each field still holding its shipped text to the corrected text."""
    changed = [name for name, (old, new) in fields.items() if getattr(row, name) == old]
    for name in changed:
        setattr(row, name, fields[name][1])
    if changed:
        row.save(update_fields=changed)
    return changed


def _holds_new_text(row, fields: dict) -> bool:
    return any(getattr(row, name) == new for name, (_, new) in fields.items())


def correct_shipped_text(apps, schema_editor):
    Source = apps.get_model("courseware", "Source")
    TeachingText = apps.get_model("courseware", "TeachingText")
    PipelineStage = apps.get_model("courseware", "PipelineStage")
    SFTExample = apps.get_model("courseware", "SFTExample")
    ComparePrompt = apps.get_model("courseware", "ComparePrompt")
    CompareResponse = apps.get_model("courseware", "CompareResponse")
    Section = apps.get_model("courseware", "Section")
    ContentVersion = apps.get_model("courseware", "ContentVersion")

    if not TeachingText.objects.exists() and not Section.objects.exists():
        return  # a fresh database: the loader brings the corrected content

    for key, fields in NEW_SOURCES.items():
        Source.objects.get_or_create(key=key, defaults=fields)
    sources = {source.key: source for source in Source.objects.all()}

    for key, fields in CORRECTIONS["TeachingText"].items():
        for row in TeachingText.objects.filter(key=key):
            _correct(row, fields)

    for slug, fields in CORRECTIONS["PipelineStage"].items():
        for stage in PipelineStage.objects.filter(slug=slug):
            _correct(stage, fields)
            # The corrected text cites these: link them where the stage carries it.
            if _holds_new_text(stage, fields):
                keys = STAGE_SOURCES.get(slug, [])
                stage.sources.add(*(sources[key] for key in keys if key in sources))

    for slug, fields in CORRECTIONS["SFTExample"].items():
        for row in SFTExample.objects.filter(slug=slug):
            _correct(row, fields)

    for slug, fields in CORRECTIONS["ComparePrompt"].items():
        for row in ComparePrompt.objects.filter(slug=slug):
            _correct(row, fields)

    for key, fields in CORRECTIONS["CompareResponse"].items():
        prompt, stage = key.split("/")
        for row in CompareResponse.objects.filter(prompt__slug=prompt, stage=stage):
            _correct(row, fields)

    for key, (field, attribution) in PUBLISHED.items():
        kind, *natural = key.split("/")
        if kind == "sft":
            rows = SFTExample.objects.filter(slug=natural[0])
        else:
            rows = CompareResponse.objects.filter(prompt__slug=natural[0], stage=natural[1])
        text = _published_text(key)
        for row in rows:
            if getattr(row, field) == text:
                row.provenance = "published"
                row.source = sources[PUBLISHED_SOURCE]
                row.attribution = attribution
                row.save(update_fields=["provenance", "source", "attribution"])

    sections = Section.objects.filter(module__course__slug=COURSE, module__slug=MODULE)
    for slug, fields in CORRECTIONS["Section"].items():
        for row in sections.filter(slug=slug):
            _correct(row, fields)
    # Make room for the critique step just before the RLAIF page: move that page and
    # everything after it up one place (last first, so no two share an order).
    rlaif = sections.filter(url_name="labeling:rlaif").first()
    has_critique = sections.filter(slug="critique").exists()
    if rlaif is not None and rlaif.order == CRITIQUE_ORDER and not has_critique:
        for row in sections.filter(order__gte=CRITIQUE_ORDER).order_by("-order"):
            row.order += 1
            row.save(update_fields=["order"])

    # Every server process drops the content it kept and reads the corrected rows.
    ContentVersion.objects.update_or_create(pk=1, defaults={"token": secrets.randbits(62) + 1})


def _published_text(key: str) -> str:
    kind, *natural = key.split("/")
    if kind == "sft":
        return CORRECTIONS["SFTExample"][natural[0]]["base_output"][1]
    return CORRECTIONS["CompareResponse"]["/".join(natural)]["text"][1]


class Migration(migrations.Migration):
    dependencies = [
        ("courseware", "0004_sources_provenance_recap"),
    ]

    operations = [
        migrations.RunPython(correct_shipped_text, migrations.RunPython.noop),
    ]
