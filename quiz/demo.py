"""The quiz's demo data (see courseware.plugins): submitted attempts with a believable
spread of scores."""

from __future__ import annotations

import math
import zlib
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from courseware.models import Section
from courseware.services import progress_follow_activity

from .draw import draw_questions, shuffled
from .models import Answer, Attempt, AttemptQuestion, Choice, Question, Quiz
from .services import QUIZ_URL_NAME

# The demo's "faulty-looking" question: strong students talk themselves into the
# second-best choice, so it discriminates negatively in the class view.
DEMO_TRICKY_SLUG = "reward-model-loss"
DEMO_HARD_SLUGS = {"post-training-compute": 1.2, "labeler-agreement": 0.8, "dpo-beta": 0.6}


def demo_populate(*, classroom, students, rng, stdout) -> None:
    """Give most demo students one to three submitted attempts with a believable spread.

    A student's ability and a question's difficulty set the chance of a right answer
    (a logistic model); one question is keyed so that strong students miss it.
    Students who already have an attempt are left alone, so a re-run adds nothing.
    """
    quiz = Quiz.objects.filter(module__course=classroom.course).first()
    if quiz is None:
        return
    questions = list(Question.objects.filter(quiz=quiz, is_active=True))
    if len(questions) < quiz.questions_per_attempt:
        return
    choices: dict[int, list[Choice]] = {}
    for choice in Choice.objects.filter(question__in=questions).order_by("pk"):
        choices.setdefault(choice.question_id, []).append(choice)
    by_topic: dict[str, list[int]] = {}
    for question in questions:
        by_topic.setdefault(question.topic, []).append(question.pk)
    slug_of = {question.pk: question.slug for question in questions}
    done = set(
        Attempt.objects.filter(quiz=quiz, user__in=students).values_list("user_id", flat=True)
    )
    plans = []  # (attempt, [(question_id, order, choice)])
    now = timezone.now()
    for student in students:
        # About one in five has not reached the quiz; decided by name, not by the rng,
        # so that a re-run with another seed does not give them attempts after all.
        if student.pk in done or zlib.crc32(student.get_username().encode()) % 5 == 0:
            continue
        ability = rng.gauss(0.8, 1.0)
        for number in range(1, rng.randint(1, 3) + 1):
            drawn = draw_questions(by_topic, quiz.questions_per_attempt, rng)
            picks = []
            for question_id in drawn:
                options = choices[question_id]
                right = next(c for c in options if c.is_correct)
                wrong = [c for c in options if not c.is_correct]
                if slug_of[question_id] == DEMO_TRICKY_SLUG:
                    # Strong students fall for the same distractor; weak ones guess.
                    p_right = 0.75 if ability < 0.5 else 0.25
                    choice = right if rng.random() < p_right else wrong[0]
                else:
                    difficulty = DEMO_HARD_SLUGS.get(slug_of[question_id], -0.6)
                    learning = 0.4 * (number - 1)
                    p_right = 1 / (1 + math.exp(-(ability + learning - difficulty)))
                    choice = right if rng.random() < p_right else rng.choice(wrong)
                order = shuffled([c.pk for c in options], rng)
                picks.append((question_id, order, choice))
            score = sum(choice.is_correct for _, _, choice in picks)
            started = now - timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
            duration = timedelta(seconds=rng.randint(90, 900))
            attempt = Attempt(
                user=student,
                quiz=quiz,
                number=number,
                started_at=started,
                submitted_at=started + duration,
                duration=duration,
                score=score,
                passed=score >= quiz.pass_mark,
            )
            plans.append((attempt, picks))
            if score >= quiz.pass_mark:
                break
    with transaction.atomic():
        Attempt.objects.bulk_create([attempt for attempt, _ in plans])
        AttemptQuestion.objects.bulk_create(
            AttemptQuestion(attempt=attempt, question_id=qid, position=pos, choice_order=order)
            for attempt, picks in plans
            for pos, (qid, order, _) in enumerate(picks, start=1)
        )
        Answer.objects.bulk_create(
            Answer(attempt=attempt, question_id=qid, choice=choice, is_correct=choice.is_correct)
            for attempt, picks in plans
            for qid, _, choice in picks
        )
    # Progress follows activity: the quiz section is done exactly for those who passed,
    # as quiz.services.attempt_submit would have recorded it.
    passed = set(
        Attempt.objects.filter(quiz=quiz, user__in=students, passed=True).values_list(
            "user_id", flat=True
        )
    )
    for section in Section.objects.filter(module_id=quiz.module_id, url_name=QUIZ_URL_NAME):
        progress_follow_activity(section=section, users=students, done_user_ids=passed)
    stdout.write(f"quiz: {len(plans)} demo attempts.")
