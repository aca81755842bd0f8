"""The teaching pages through the test client: full pages, htmx partials, bad input,
bounded queries, and progress."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from courseware import ngram
from courseware.models import (
    ComparePrompt,
    CompareResponse,
    PipelineStage,
    SectionProgress,
    TeachingText,
)
from tests.conftest import fill_content_caches

KW = {"course": "language-models", "module": "post-training"}
HTMX = {"HX-Request": "true"}

# A first visit: the session, the user with their role and the content version, the
# learner's progress in the module and the visit's insert = 4. Content comes from process
# memory (the `warm_content` fixture fills it, as any earlier request would have).
PIPELINE_QUERIES = 4
STAGE_QUERIES = 4
PRETRAINING_QUERIES = 4  # the n-gram model lives in memory too
SFT_QUERIES = 4
COMPARE_QUERIES = 4
GUESS_QUERIES = 4


def url(name: str, **extra) -> str:
    return reverse(f"courseware:{name}", kwargs={**KW, **extra})


# -- pipeline ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pipeline_overview_shows_diagram_and_real_compute_figures(
    student_client, warm_content, django_assert_num_queries
):
    with django_assert_num_queries(PIPELINE_QUERIES):
        response = student_client.get(url("pipeline"))
    assert response.status_code == 200
    text = response.text
    assert "<h1>The pipeline</h1>" in text
    assert 'aria-label="The training pipeline, in order"' in text
    for figure in ["3,640", "4.9", "60", "0.13 %", "1.6 %"]:
        assert figure in text
    assert "arXiv 2203.02155" in text


@pytest.mark.django_db
def test_pipeline_compute_text_corrects_the_hundredfold_claim(student_client, content):
    text = student_client.get(url("pipeline")).text
    assert "hundred times less compute" in text
    assert "do not support that rule" in text


@pytest.mark.django_db
def test_pipeline_htmx_request_gets_only_the_panel(student_client, content):
    response = student_client.get(url("pipeline"), headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="pipeline-panel"')
    assert "<html" not in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "slug", ["pre-training", "sft", "reward-model", "rlhf", "dpo", "constitutional-ai"]
)
def test_each_stage_has_its_own_page_with_every_part(
    student_client, warm_content, slug, django_assert_num_queries
):
    with django_assert_num_queries(STAGE_QUERIES):
        response = student_client.get(url("pipeline-stage", stage=slug))
    assert response.status_code == 200
    stage = PipelineStage.objects.get(slug=slug)
    for label in ["Takes in", "Gives out", "Objective", "Data and scale", "What it adds"]:
        assert f"<dt>{label}</dt>" in response.text
    assert "<dt>What it cannot do</dt>" in response.text
    assert stage.title in response.text
    assert 'aria-current="step"' in response.text
    assert "Sources" in response.text


@pytest.mark.django_db
def test_stages_step_through_with_next_and_previous(student_client, content):
    first = student_client.get(url("pipeline")).text
    assert f'href="{url("pipeline-stage", stage="pre-training")}"' in first
    middle = student_client.get(url("pipeline-stage", stage="sft")).text
    assert "Previous: Pre-training" in middle
    assert "Next: Reward model" in middle
    start = student_client.get(url("pipeline-stage", stage="pre-training")).text
    assert "Previous: overview" in start
    last = student_client.get(url("pipeline-stage", stage="rlvr")).text
    assert "Next:" not in last.split('aria-label="Pipeline stages"')[1].split("</nav>")[0]


@pytest.mark.django_db
def test_stage_htmx_partial_and_unknown_stage(student_client, content):
    partial = student_client.get(url("pipeline-stage", stage="dpo"), headers=HTMX)
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "L_DPO" in partial.text
    assert student_client.get(url("pipeline-stage", stage="no-such-stage")).status_code == 404


@pytest.mark.django_db
def test_pipeline_queries_do_not_grow_with_stages(
    student_client, warm_content, django_assert_num_queries
):
    for n in range(10):
        PipelineStage.objects.create(
            slug=f"extra-{n}",
            order=100 + n,
            title=f"Extra {n}",
            short_title=f"Extra {n}",
            summary="s",
            takes_in="t",
            gives_out="g",
            objective="o",
            data_scale="d",
            adds="a",
            cannot="c",
        )
    fill_content_caches()
    with django_assert_num_queries(PIPELINE_QUERIES):
        assert student_client.get(url("pipeline")).status_code == 200


@pytest.mark.django_db
def test_pipeline_pages_need_a_login(client, content):
    response = client.get(url("pipeline"))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


@pytest.mark.django_db
def test_visiting_the_pipeline_marks_its_section_seen(student_client, student, content):
    student_client.get(url("pipeline-stage", stage="rlhf"))
    progress = SectionProgress.objects.get(user=student, section__slug="pipeline")
    assert progress.done_at is None


@pytest.mark.django_db
def test_done_button_of_the_pipeline_is_not_taken_by_a_stage_url(student_client, student, content):
    response = student_client.post(
        reverse("courseware:section-done", kwargs={**KW, "section": "pipeline"})
    )
    assert response.status_code == 302
    assert SectionProgress.objects.get(user=student, section__slug="pipeline").done_at


# -- pre-training demo ------------------------------------------------------------------------


@pytest.mark.django_db
def test_pretraining_page_explains_the_model(
    student_client, warm_content, django_assert_num_queries
):
    ngram.build_default_model()
    with django_assert_num_queries(PRETRAINING_QUERIES):
        response = student_client.get(url("pretraining"))
    assert response.status_code == 200
    assert "trigram" in response.text
    assert "King James" in response.text
    assert "subword" in response.text


@pytest.mark.django_db
def test_next_token_demo_shows_ten_tokens_with_probabilities(
    student_client, warm_content, django_assert_num_queries
):
    ngram.build_default_model()
    with django_assert_num_queries(PRETRAINING_QUERIES):
        response = student_client.get(url("pretraining"), {"phrase": "And the LORD"})
    assert response.status_code == 200
    table = response.text.split('id="next-result"')[1].split("</table>")[0]
    assert table.count('<th scope="row">') == 10
    assert "after “the lord”" in table
    expected = ngram.build_default_model().top_k("and the lord", 1)[0]
    assert f"{expected[1]:.4f}" in table


@pytest.mark.django_db
def test_next_token_htmx_partial_is_only_the_result(student_client, content):
    response = student_client.get(
        url("pretraining"), {"phrase": "thou shalt"}, headers={**HTMX, "HX-Target": "next-result"}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="next-result"')
    assert "<html" not in response.text


@pytest.mark.django_db
def test_next_token_empty_phrase_shows_how_sentences_start(student_client, content):
    response = student_client.get(url("pretraining"), {"phrase": "   "})
    assert response.status_code == 200
    assert "after the start of a sentence" in response.text


@pytest.mark.django_db
def test_next_token_unknown_word_is_explained(student_client, content):
    response = student_client.get(url("pretraining"), {"phrase": "the quasar"})
    assert response.status_code == 200
    assert "“quasar” fewer than twice" in response.text
    assert response.text.split('id="next-result"')[1].count('<th scope="row">') == 10


@pytest.mark.django_db
def test_score_demo_shows_bits_loss_and_perplexity(student_client, content):
    response = student_client.get(
        url("pretraining"), {"sentence": "In the beginning God created the heaven"}
    )
    assert response.status_code == 200
    result = response.text.split('id="score-result"')[1]
    score = ngram.build_default_model().score("In the beginning God created the heaven")
    assert f"{score.mean_bits:.2f} bits" in result
    assert f"{score.perplexity:.1f}" in result
    assert "(end of sentence)" in result
    assert result.count('<th scope="row">') == len(score.rows)


@pytest.mark.django_db
def test_score_htmx_partial(student_client, content):
    response = student_client.get(
        url("pretraining"), {"sentence": "thou art"}, headers={**HTMX, "HX-Target": "score-result"}
    )
    assert response.text.lstrip().startswith('<div id="score-result"')


@pytest.mark.django_db
def test_score_marks_unknown_words(student_client, content):
    response = student_client.get(url("pretraining"), {"sentence": "the smartphone beeped"})
    assert "unknown</span>" in response.text
    assert "2 words (marked “unknown”)" in response.text


@pytest.mark.django_db
def test_score_of_empty_input_says_so(student_client, content):
    response = student_client.get(url("pretraining"), {"sentence": "  123 456 "})
    assert response.status_code == 200
    assert "There are no words to score" in response.text


@pytest.mark.django_db
def test_ten_thousand_characters_are_cut_with_a_message(
    student_client, warm_content, django_assert_num_queries
):
    long_text = ("and the lord said " * 600)[:10_000]
    with django_assert_num_queries(PRETRAINING_QUERIES):
        response = student_client.get(url("pretraining"), {"sentence": long_text})
    assert response.status_code == 200
    assert "Your text was 10,000 characters long" in response.text
    assert "first 1,000" in response.text
    response = student_client.get(url("pretraining"), {"phrase": long_text})
    assert response.status_code == 200
    assert "10,000 characters" in response.text


@pytest.mark.django_db
def test_sampling_with_a_seed_is_repeatable_and_linkable(student_client, content):
    query = {"start": "and god said", "temperature": "0.8", "seed": "7"}
    first = student_client.get(url("pretraining"), query)
    second = student_client.get(url("pretraining"), query)
    assert first.status_code == 200
    sample = first.text.split('class="sample-text"')[1].split("</blockquote>")[0]
    assert sample == second.text.split('class="sample-text"')[1].split("</blockquote>")[0]
    assert "seed=7" in first.text
    assert "Temperature 0.8, seed 7" in first.text


@pytest.mark.django_db
def test_sampling_without_a_seed_picks_one_and_shows_it(student_client, content):
    response = student_client.get(url("pretraining"), {"start": "", "temperature": ""})
    assert response.status_code == 200
    assert "Temperature 1.0, seed " in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"temperature": "abc"}, "must be a number"),
        ({"temperature": "0"}, "at least 0.1"),
        ({"temperature": "-1"}, "at least 0.1"),
        ({"temperature": "99"}, "at most 5"),
        ({"temperature": "nan"}, "must be a number"),
        ({"temperature": "inf"}, "must be a number"),
        ({"seed": "x1"}, "whole number"),
        ({"seed": "-3"}, "0 or more"),
        ({"seed": str(2**40)}, "at most"),
    ],
)
def test_malformed_sampling_numbers_are_a_400_with_a_message(
    student_client, content, query, message
):
    response = student_client.get(url("pretraining"), {"start": "the", **query})
    assert response.status_code == 400
    assert message in response.text
    assert 'class="sample-text"' not in response.text


@pytest.mark.django_db
def test_malformed_number_htmx_partial_is_a_400_with_the_message(student_client, content):
    response = student_client.get(
        url("pretraining"),
        {"start": "the", "temperature": "abc"},
        headers={**HTMX, "HX-Target": "sample-result"},
    )
    assert response.status_code == 400
    assert response.text.lstrip().startswith('<div id="sample-result"')
    assert "must be a number" in response.text


@pytest.mark.django_db
def test_the_model_is_built_once_per_process(student_client, content):
    ngram.build_default_model()
    before = ngram.build_default_model.cache_info()
    for phrase in ["and", "the lord", "thou"]:
        student_client.get(url("pretraining"), {"phrase": phrase})
    after = ngram.build_default_model.cache_info()
    assert after.misses == before.misses
    assert after.hits >= before.hits + 3


# -- SFT --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sft_page_masks_the_prompt_and_cites_the_scale(
    student_client, warm_content, django_assert_num_queries
):
    with django_assert_num_queries(SFT_QUERIES):
        response = student_client.get(url("sft"))
    assert response.status_code == 200
    text = response.text
    assert text.count('class="tok tok-masked"') > 5
    assert text.count('class="tok tok-counted"') > 10
    assert "Prompt tokens, masked out of the loss" in text
    assert "13 prompt tokens masked · 53 response tokens counted" in text
    assert "What a base model wrote for the same prompt" in text
    for figure in ["~13k (12,725)", "27,540", "1,000"]:
        assert figure in text
    for arxiv in ["2203.02155", "2307.09288", "2305.11206"]:
        assert f"arXiv {arxiv}" in text


@pytest.mark.django_db
def test_sft_has_three_examples_each_reachable(student_client, content):
    page = student_client.get(url("sft")).text
    for slug in ["moon-landing", "haiku", "units"]:
        assert f'href="?example={slug}"' in page
    response = student_client.get(url("sft"), {"example": "haiku"})
    assert '<mark class="tok tok-counted">Cold</mark>' in response.text
    assert 'href="?example=haiku" hx-get' in response.text


@pytest.mark.django_db
def test_sft_htmx_partial_and_unknown_example(student_client, content):
    partial = student_client.get(url("sft"), {"example": "units"}, headers=HTMX)
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<div id="sft-example"')
    assert '<mark class="tok tok-counted">3.1</mark>' in partial.text
    assert student_client.get(url("sft"), {"example": "nope"}).status_code == 404


# -- stage comparison -------------------------------------------------------------------------


@pytest.mark.django_db
def test_compare_shows_three_stages_for_the_chosen_prompt(
    student_client, warm_content, django_assert_num_queries
):
    with django_assert_num_queries(COMPARE_QUERIES):
        response = student_client.get(url("compare"), {"prompt": "einstein-nobel"})
    assert response.status_code == 200
    panel = response.text.split('id="compare-panel"')[1]
    assert panel.index("Base model") < panel.index("SFT model") < panel.index("RLHF model")
    assert "photoelectric" in panel
    assert "arXiv 2203.02155" in response.text
    assert 'href="?prompt=einstein-nobel" hx-get="?prompt=einstein-nobel"' in response.text
    assert 'hx-push-url="true" aria-current="true">Einstein' in response.text


@pytest.mark.django_db
def test_compare_has_six_prompts_each_with_three_stages(student_client, content):
    assert ComparePrompt.objects.count() >= 6
    for prompt in ComparePrompt.objects.all():
        assert sorted(prompt.responses.values_list("stage", flat=True)) == ["base", "rlhf", "sft"]
    page = student_client.get(url("compare")).text
    assert page.count('<li><a href="?prompt=') == ComparePrompt.objects.count()


@pytest.mark.django_db
def test_compare_htmx_partial_is_the_panel_only(student_client, content):
    response = student_client.get(url("compare"), {"prompt": "great-wall"}, headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="compare-panel"')
    assert "naked eye" in response.text
    assert "<html" not in response.text


@pytest.mark.django_db
def test_compare_unknown_prompt_is_404(student_client, content):
    assert student_client.get(url("compare"), {"prompt": "../etc"}).status_code == 404


@pytest.mark.django_db
def test_compare_queries_do_not_grow_with_prompts(
    student_client, warm_content, django_assert_num_queries
):
    for n in range(20):
        prompt = ComparePrompt.objects.create(
            slug=f"p{n}", order=100 + n, title=f"P{n}", prompt="?"
        )
        for stage in ["base", "sft", "rlhf"]:
            CompareResponse.objects.create(prompt=prompt, stage=stage, text="t", note="n")
    fill_content_caches()
    with django_assert_num_queries(COMPARE_QUERIES):
        assert student_client.get(url("compare")).status_code == 200


# -- which stage wrote this? ------------------------------------------------------------------


@pytest.mark.django_db
def test_guess_round_hides_the_stage(student_client, warm_content, django_assert_num_queries):
    answer = CompareResponse.objects.get(prompt__slug="stock-market", stage="sft")
    with django_assert_num_queries(GUESS_QUERIES):
        response = student_client.get(url("compare-guess"), {"response": answer.pk})
    assert response.status_code == 200
    panel = response.text.split('id="guess-panel"')[1]
    assert escape(answer.text) in panel
    assert escape(answer.note) not in panel
    assert "Who wrote this answer?" in panel
    assert f'name="response" value="{answer.pk}"' in panel


@pytest.mark.django_db
def test_guess_round_without_an_id_picks_a_response(student_client, content):
    response = student_client.get(url("compare-guess"))
    assert response.status_code == 200
    assert 'name="guess"' in response.text


@pytest.mark.django_db
def test_right_guess_says_why_and_finishes_the_section(
    student_client, student, warm_content, django_assert_max_num_queries
):
    answer = CompareResponse.objects.get(prompt__slug="neighbours-house", stage="rlhf")
    with django_assert_max_num_queries(GUESS_QUERIES + 4):
        response = student_client.post(
            url("compare-guess"), {"response": answer.pk, "guess": "rlhf"}
        )
    assert response.status_code == 200
    assert "Right: the RLHF model wrote it" in response.text
    assert "safe refusal" in response.text
    assert SectionProgress.objects.get(user=student, section__slug="compare").done_at


@pytest.mark.django_db
def test_wrong_guess_is_told_the_answer(student_client, content):
    answer = CompareResponse.objects.get(prompt__slug="great-wall", stage="base")
    response = student_client.post(url("compare-guess"), {"response": answer.pk, "guess": "sft"})
    assert response.status_code == 200
    assert "Not quite: the Base model wrote it" in response.text
    assert "You guessed <strong>SFT model</strong>" in response.text


@pytest.mark.django_db
def test_guess_htmx_post_returns_the_panel(student_client, content):
    answer = CompareResponse.objects.get(prompt__slug="headache", stage="sft")
    response = student_client.post(
        url("compare-guess"), {"response": answer.pk, "guess": "sft"}, headers=HTMX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="guess-panel"')


@pytest.mark.django_db
def test_guess_with_a_bad_stage_is_400_and_keeps_the_round(student_client, student, content):
    answer = CompareResponse.objects.get(prompt__slug="headache", stage="base")
    response = student_client.post(url("compare-guess"), {"response": answer.pk, "guess": "gpt"})
    assert response.status_code == 400
    assert "Pick one of the three stages" in response.text
    assert escape(answer.text) in response.text
    assert not SectionProgress.objects.filter(
        user=student, section__slug="compare", done_at__isnull=False
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("tampered", ["abc", "", "-4", "1.5"])
def test_guess_with_a_malformed_round_is_400(student_client, content, tampered):
    response = student_client.post(url("compare-guess"), {"response": tampered, "guess": "sft"})
    assert response.status_code == 400
    assert "not one we know" in response.text


@pytest.mark.django_db
def test_guess_with_an_unknown_round_is_404(student_client, content):
    post = student_client.post(url("compare-guess"), {"response": 987654, "guess": "sft"})
    assert post.status_code == 404
    assert student_client.get(url("compare-guess"), {"response": "987654"}).status_code == 404
    assert student_client.get(url("compare-guess"), {"response": "x"}).status_code == 400


@pytest.mark.django_db
def test_guess_htmx_bad_input_returns_the_panel_with_400(student_client, content):
    response = student_client.post(
        url("compare-guess"), {"response": "zzz", "guess": "sft"}, headers=HTMX
    )
    assert response.status_code == 400
    assert response.text.lstrip().startswith('<div id="guess-panel"')


# -- progress on the module overview ----------------------------------------------------------


@pytest.mark.django_db
def test_overview_shows_progress_from_the_teaching_pages(student_client, content):
    student_client.get(url("sft"))
    answer = CompareResponse.objects.first()
    student_client.post(url("compare-guess"), {"response": answer.pk, "guess": answer.stage})
    overview = student_client.get(content.get_absolute_url()).text
    assert "1 of 14" in overview


@pytest.mark.django_db
def test_edited_teaching_text_is_shown(student_client, content):
    TeachingText.objects.filter(key="compare-intro").update(body="Edited **intro**.")
    assert "Edited <strong>intro</strong>." in student_client.get(url("compare")).text


@pytest.mark.django_db
def test_an_unseeded_sample_is_drawn_anew_on_every_request(student_client, content):
    """Nothing keeps a page whose content is random: two requests, two draws."""
    query = {"start": "and the", "temperature": "1.0"}
    pages = [student_client.get(url("pretraining"), query) for _ in range(2)]
    assert [page.status_code for page in pages] == [200, 200]
    seeds = [re.search(r"Temperature 1.0, seed (\d+)", page.text) for page in pages]
    assert all(seeds)
    assert seeds[0].group(1) != seeds[1].group(1)
