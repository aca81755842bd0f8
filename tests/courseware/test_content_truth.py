"""Issue 12, "teach only what is true": every sample output on every page says where it
comes from, the published ones are verbatim and cited, and the pages cite the sources
where their ideas appear. The shipped content files no longer hold the claims that were
found wrong."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.html import escape

from courseware.models import CompareResponse, Provenance, SFTExample
from labeling.models import CritiqueExample

ROOT = Path(__file__).resolve().parents[2]
KW = {"course": "language-models", "module": "post-training"}

# FACTS.md, "Published examples": OpenAI, "Aligning language models to follow
# instructions" (2022), with the InstructGPT paper (arXiv 2203.02155).
MOON_PROMPT = "Explain the moon landing to a 6 year old in a few sentences."
GPT3_MOON = (
    "Explain the theory of gravity to a 6 year old.\n"
    "Explain the theory of relativity to a 6 year old in a few sentences.\n"
    "Explain the big bang theory to a 6 year old.\n"
    "Explain evolution to a 6 year old."
)
INSTRUCTGPT_MOON = (
    "People went to the moon, and they took pictures of what they saw, and sent them back "
    "to the earth so we could all see them."
)
WRITTEN_LABEL = "Written for this course to show what a model at this stage tends to do"
PUBLISHED_LABEL = "Published output, quoted verbatim"

SAMPLE = re.compile(
    r'<figure class="sample-output" data-provenance="(?P<kind>\w+)">\s*'
    r'<pre class="model-text">(?P<text>.*?)</pre>\s*'
    r'<figcaption class="provenance">(?P<label>.*?)</figcaption>\s*</figure>',
    re.S,
)


def url(name: str, **extra) -> str:
    return reverse(name, kwargs={**KW, **extra})


def samples(html: str) -> list[re.Match]:
    """Every sample output on the page, each with its provenance label; a sample output
    shown without one (a bare model-text block) fails here."""
    found = list(SAMPLE.finditer(html))
    assert html.count('class="model-text"') == len(found), "a sample output without a label"
    for match in found:
        label = match["label"]
        if match["kind"] == Provenance.PUBLISHED:
            assert PUBLISHED_LABEL in label, label
        else:
            assert match["kind"] == Provenance.WRITTEN
            assert WRITTEN_LABEL in label, label
    return found


# -- provenance on every page that shows a sample output ---------------------------------------


@pytest.mark.django_db
def test_every_sft_example_labels_its_base_output(student_client, content):
    for example in SFTExample.objects.all():
        page = student_client.get(url("courseware:sft"), {"example": example.slug}).text
        (found,) = samples(page)
        assert found["kind"] == example.provenance
        assert found["text"] == escape(example.base_output)


@pytest.mark.django_db
def test_the_sft_page_shows_gpt3s_published_moon_landing_text_verbatim_and_cited(
    student_client, content
):
    example = SFTExample.objects.get(slug="moon-landing")
    assert (example.instruction, example.base_output) == (MOON_PROMPT, GPT3_MOON)
    assert example.provenance == Provenance.PUBLISHED
    page = student_client.get(url("courseware:sft"), {"example": "moon-landing"}).text
    (found,) = samples(page)
    assert found["kind"] == "published"
    assert found["text"] == escape(GPT3_MOON)
    assert "GPT-3 (base model)" in found["label"]
    assert 'href="https://openai.com/index/instruction-following/"' in found["label"]
    # The invented continuation it replaces is gone.
    assert "water cycle" not in page


@pytest.mark.django_db
def test_every_comparison_answer_carries_its_provenance(student_client, content):
    for response in CompareResponse.objects.select_related("prompt"):
        page = student_client.get(url("courseware:compare"), {"prompt": response.prompt.slug})
        kinds = {m["text"]: m["kind"] for m in samples(page.text)}
        assert kinds[escape(response.text)] == response.provenance


@pytest.mark.django_db
def test_the_comparison_uses_the_published_moon_landing_answers(student_client, content):
    answers = {r.stage: r for r in CompareResponse.objects.filter(prompt__slug="moon-landing")}
    assert answers["base"].prompt.prompt == MOON_PROMPT
    assert (answers["base"].text, answers["base"].provenance) == (GPT3_MOON, "published")
    assert (answers["rlhf"].text, answers["rlhf"].provenance) == (INSTRUCTGPT_MOON, "published")
    assert answers["rlhf"].attribution == "InstructGPT"
    assert answers["sft"].provenance == "written"  # no published SFT-only answer exists
    page = student_client.get(url("courseware:compare"), {"prompt": "moon-landing"}).text
    assert [m["kind"] for m in samples(page)] == ["published", "written", "published"]
    assert "Aligning language models to follow instructions" in page


@pytest.mark.django_db
def test_the_guessing_game_labels_every_answer_and_hides_the_source_until_the_guess(
    student_client, content
):
    for response in CompareResponse.objects.all():
        asked = student_client.get(url("courseware:compare-guess"), {"response": response.pk})
        (found,) = samples(asked.text)
        assert found["kind"] == response.provenance
        if response.provenance == "published":
            # The model's name would give the stage away before the guess.
            assert response.attribution not in found["label"]
        answered = student_client.post(
            url("courseware:compare-guess"), {"response": response.pk, "guess": "sft"}
        )
        (found,) = samples(answered.text)
        if response.provenance == "published":
            assert response.attribution in found["label"]
            assert "Aligning language models to follow instructions" in found["label"]


@pytest.mark.django_db
def test_every_critique_round_labels_each_model_written_text(student_client, content):
    for example in CritiqueExample.objects.select_related("principle"):
        page = student_client.get(
            url("labeling:critique"), {"principle": example.principle.slug, "step": 3}
        ).text
        texts = [m["text"] for m in samples(page)]
        assert texts == [
            escape(example.first_response),
            escape(example.critique),
            escape(example.revision),
        ]


@pytest.mark.django_db
def test_the_labeling_pairs_say_they_were_written_for_the_course(student_client, student, content):
    import random

    from labeling import services

    services.session_start(user=student, rng=random.Random(1))
    page = student_client.get(url("labeling:session")).text
    assert 'class="response-text"' in page
    assert "Both responses were written for this course" in page


# -- sources cited where their ideas appear -----------------------------------------------------


def stage_page(client, slug: str) -> str:
    return client.get(url("courseware:pipeline-stage", stage=slug)).text


@pytest.mark.django_db
def test_the_reward_model_page_cites_bradley_terry_christiano_stiennon_and_the_biases(
    student_client, content
):
    page = stage_page(student_client, "reward-model")
    assert "Bradley and Terry, 1952" in page
    assert 'href="https://doi.org/10.2307/2334029">Biometrika 39 (3/4), 324–345</a>' in page
    for arxiv in ("1706.03741", "2009.01325", "2310.03716", "2310.13548"):
        assert f"arXiv {arxiv}</a>" in page
    assert "Singhal et al. 2023" in page and "Sharma et al. 2023" in page


@pytest.mark.django_db
def test_the_rlhf_page_credits_refusals_to_data_and_reads_gao_as_a_gold_reward_model(
    student_client, content
):
    page = stage_page(student_client, "rlhf")
    assert "Judgment: declining harmful requests" not in page
    assert "harmlessness preference data and safety-focused fine-tuning" in page
    assert "mostly followed harmful instructions" in page
    assert "“gold” reward model" in page
    assert "Stiennon et al. (2020) saw this with human" in page
    for arxiv in ("2204.05862", "2307.09288", "2009.01325", "2210.10760", "1706.03741"):
        assert f"arXiv {arxiv}</a>" in page
    assert "about 12 times the SFT step" in page


@pytest.mark.django_db
def test_the_dpo_page_names_llama_3s_reward_models_and_mixtral(student_client, content):
    page = stage_page(student_client, "dpo")
    assert "still trained a reward model in each round" in page
    assert "Mixtral 8x7B-Instruct was trained with SFT and then DPO" in page
    assert "arXiv 2401.04088</a>" in page and "arXiv 2407.21783</a>" in page


@pytest.mark.django_db
def test_the_cai_page_says_no_human_harmlessness_labels_and_cites_claudes_constitution(
    student_client, content
):
    page = stage_page(student_client, "constitutional-ai")
    assert "without any human harmlessness labels" in page
    assert "mostly from AI-written feedback" not in page
    assert "“Claude's Constitution”" in page
    assert 'href="https://www.anthropic.com/news/claudes-constitution">Anthropic, May 2023' in page


@pytest.mark.django_db
def test_the_compute_text_states_the_twelvefold_ratio_and_drops_the_uncited_claim(
    student_client, content
):
    page = student_client.get(url("courseware:pipeline")).text
    assert "smaller still" not in page
    assert "cost about <strong>12 times</strong> as much as the SFT step" in page
    assert "No figure has been published for training the reward model" in page
    assert (
        "Constitutional AI</strong> (Bai et al. 2022) trains for harmlessness with no human" in page
    )
    assert "replaces most human harmlessness labels" not in page


@pytest.mark.django_db
def test_the_pretraining_page_dates_the_corpus_1769_and_names_crown_copyright(
    student_client, content
):
    page = student_client.get(url("courseware:pretraining")).text
    assert "(1611), a public-domain text" not in page
    assert "1769 Oxford standard text" in page
    assert "Crown copyright" in page


@pytest.mark.django_db
def test_the_compare_page_presents_stage_differences_as_tendencies_set_by_the_data(
    student_client, content
):
    page = student_client.get(url("courseware:compare")).text
    assert "The <strong>RLHF</strong> model adds judgment" not in page
    assert "tends to continue the text" in page
    assert "(Bai et al. 2022a; Llama 2, section 4)" in page
    for arxiv in ("2204.05862", "2307.09288", "2203.02155"):
        assert f"arXiv {arxiv}</a>" in page


# -- the shipped content files ------------------------------------------------------------------

WRONG = {
    # issue 12's list, as the shipped files said it
    "smaller still": "an uncited compute claim",
    "replaces most human harmlessness labels": "CAI used no human harmlessness labels",
    "replaces many human labels": "CAI used no human harmlessness labels",
    "mostly from AI-written feedback": "CAI used no human harmlessness labels",
    "Judgment: declining harmful requests": "refusals come from data, not RL as such",
    "a sensible ceiling": "a consensus predictor can beat inter-labeler agreement",
    "as in InstructGPT": "harmlessness labels by people: Anthropic's HH-RLHF",
    "says nothing about length": "a per-token KL summed over a response grows with length",
    "human data is": "an uncited opinion",
    "(1611)": "the shipped text is the 1769 standard text",
    "public-domain book": "Crown copyright in the UK",
    "usually 10^4–10^5": "Tülu 3's SFT mix has ~939k examples",
}


@pytest.mark.parametrize(
    "path",
    [
        "courseware/content/teaching.json",
        "courseware/content/course.json",
        "quiz/content/post-training.json",
        "labeling/content/critiques.json",
    ],
)
def test_no_shipped_content_repeats_a_claim_found_wrong(path):
    text = json.dumps(json.loads((ROOT / path).read_text(encoding="utf-8")), ensure_ascii=False)
    found = {phrase: why for phrase, why in WRONG.items() if phrase in text}
    assert not found, found


def test_every_published_sample_in_the_content_names_its_source():
    data = json.loads((ROOT / "courseware/content/teaching.json").read_text(encoding="utf-8"))
    keys = {source["key"] for source in data["sources"]}
    rows = [*data["sft_examples"], *(r for p in data["compare_prompts"] for r in p["responses"])]
    published = [row for row in rows if row.get("provenance") == "published"]
    assert len(published) == 3
    assert all(row["source"] in keys and row["attribution"] for row in published)
    for source in data["sources"]:
        assert source.get("arxiv_id") or (source.get("venue") and source.get("link")), source
