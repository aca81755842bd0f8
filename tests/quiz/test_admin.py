"""Admin keeps the bank valid: exactly one correct choice per question."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def change_form_data(question, correct_flags: list[bool]) -> dict[str, str]:
    choices = list(question.choices.order_by("order"))
    data = {
        "quiz": str(question.quiz_id),
        "slug": question.slug,
        "order": str(question.order),
        "topic": question.topic,
        "text": question.text,
        "is_active": "on",
        "choices-TOTAL_FORMS": str(len(choices)),
        "choices-INITIAL_FORMS": str(len(choices)),
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
    }
    for i, (choice, correct) in enumerate(zip(choices, correct_flags, strict=True)):
        data |= {
            f"choices-{i}-id": str(choice.pk),
            f"choices-{i}-question": str(question.pk),
            f"choices-{i}-order": str(choice.order),
            f"choices-{i}-text": choice.text,
            f"choices-{i}-explanation": choice.explanation,
        }
        if correct:
            data[f"choices-{i}-is_correct"] = "on"
    return data


@pytest.mark.parametrize("flags", [[False] * 4, [True, True, False, False]])
def test_admin_refuses_a_question_without_exactly_one_correct_choice(
    client, admin_user, quiz, flags
):
    client.force_login(admin_user)
    question = quiz.questions.first()
    before = list(question.choices.values_list("is_correct", flat=True).order_by("order"))
    response = client.post(
        f"/admin/quiz/question/{question.pk}/change/", change_form_data(question, flags)
    )
    assert response.status_code == 200
    assert "Mark exactly one choice as correct" in response.text
    after = list(question.choices.values_list("is_correct", flat=True).order_by("order"))
    assert after == before


def test_admin_saves_a_question_with_one_correct_choice(client, admin_user, quiz):
    client.force_login(admin_user)
    question = quiz.questions.first()
    response = client.post(
        f"/admin/quiz/question/{question.pk}/change/",
        change_form_data(question, [False, False, True, False]),
    )
    assert response.status_code == 302
    assert question.choices.get(is_correct=True).order == 3


def test_admin_can_move_the_key_back_to_an_earlier_choice(client, admin_user, quiz):
    client.force_login(admin_user)
    question = quiz.questions.first()
    for flags, expected in [([False, False, False, True], 4), ([True, False, False, False], 1)]:
        response = client.post(
            f"/admin/quiz/question/{question.pk}/change/", change_form_data(question, flags)
        )
        assert response.status_code == 302
        assert question.choices.get(is_correct=True).order == expected
