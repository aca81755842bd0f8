"""Question bank (quiz, questions, choices) and learners' attempts.

Designed for the instructor analytics (issue 6) to aggregate in SQL over a class of
10,000: every attempt records which questions it showed (AttemptQuestion) and, once
graded, one Answer row per question with `is_correct` as graded, so facility, the
most chosen wrong answer and score histograms are GROUP BY queries over indexed
columns, not Python loops.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from courseware.models import Module

from .grading import DEFAULT_PASS_MARK, QUESTIONS_PER_ATTEMPT


class Topic(models.TextChoices):
    PRETRAINING = "pretraining", "Pre-training"
    SFT = "sft", "Supervised fine-tuning"
    REWARD = "reward", "Reward modelling"
    RLHF = "rlhf", "RLHF with PPO and the KL penalty"
    DPO = "dpo", "Direct preference optimisation"
    CAI = "cai", "Constitutional AI and RLAIF"
    RLVR = "rlvr", "RL with verifiable rewards and GRPO"
    PIPELINE = "pipeline", "The pipeline as a whole"


class Quiz(models.Model):
    """The graded quiz of a module (one per module: its page is the module's quiz section)."""

    module = models.OneToOneField(Module, on_delete=models.CASCADE, related_name="quiz")
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True, help_text="Markdown, shown on the quiz page.")
    pass_mark = models.PositiveSmallIntegerField(
        default=DEFAULT_PASS_MARK, help_text="Correct answers needed to pass."
    )
    questions_per_attempt = models.PositiveSmallIntegerField(default=QUESTIONS_PER_ATTEMPT)

    class Meta:
        verbose_name_plural = "quizzes"
        constraints = [
            models.CheckConstraint(
                condition=Q(questions_per_attempt__gte=1)
                & Q(pass_mark__lte=F("questions_per_attempt")),
                name="quiz_pass_mark_within_questions",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    slug = models.SlugField(help_text="Stable name used by the content loader.")
    order = models.PositiveSmallIntegerField()
    topic = models.CharField(max_length=20, choices=Topic.choices)
    text = models.TextField(help_text="Markdown; raw HTML is not rendered.")
    is_active = models.BooleanField(
        default=True, help_text="Inactive questions are no longer drawn for new attempts."
    )

    class Meta:
        ordering = ["quiz", "order"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "slug"], name="question_unique_slug"),
            models.UniqueConstraint(fields=["quiz", "order"], name="question_unique_order"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.slug}"


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    order = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=500)
    is_correct = models.BooleanField(default=False)
    explanation = models.TextField(help_text="Why this choice is right or wrong (markdown).")

    class Meta:
        ordering = ["question", "order"]
        constraints = [
            models.UniqueConstraint(fields=["question", "order"], name="choice_unique_order"),
            # At most one correct choice per question, enforced by PostgreSQL/SQLite;
            # "at least one" is checked by the admin formset and the content loader.
            models.UniqueConstraint(
                fields=["question"], condition=Q(is_correct=True), name="choice_one_correct"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class AttemptQuerySet(models.QuerySet):
    def submitted(self) -> AttemptQuerySet:
        return self.filter(submitted_at__isnull=False)


class Attempt(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField(help_text="1 for the first attempt, 2 …")
    started_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True, help_text="Time from start to submit.")

    objects = AttemptQuerySet.as_manager()

    class Meta:
        ordering = ["user", "quiz", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "quiz", "number"], name="attempt_unique_number"
            ),
            # One attempt in progress per learner and quiz: two tabs pressing "Start"
            # at once cannot open two.
            models.UniqueConstraint(
                fields=["user", "quiz"],
                condition=Q(submitted_at__isnull=True),
                name="attempt_one_open",
            ),
            # Graded means all of score, passed, duration and submitted_at are set.
            models.CheckConstraint(
                condition=(
                    Q(
                        submitted_at__isnull=True,
                        score__isnull=True,
                        passed__isnull=True,
                        duration__isnull=True,
                    )
                    | Q(
                        submitted_at__isnull=False,
                        score__isnull=False,
                        passed__isnull=False,
                        duration__isnull=False,
                    )
                ),
                name="attempt_graded_consistently",
            ),
        ]
        indexes = [
            # Class analytics: score histograms and pass rates of submitted attempts.
            models.Index(
                fields=["quiz", "score"],
                condition=Q(submitted_at__isnull=False),
                name="attempt_submitted_score",
            ),
            models.Index(fields=["quiz", "submitted_at"], name="attempt_quiz_submitted"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.quiz} · attempt {self.number}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class AttemptQuestion(models.Model):
    """A question as shown in one attempt: its position and its choices' order."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="slots")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="slots")
    position = models.PositiveSmallIntegerField()
    choice_order = models.JSONField(help_text="Choice ids in the order this attempt shows them.")

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="slot_unique_question"),
            models.UniqueConstraint(fields=["attempt", "position"], name="slot_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt} · Q{self.position}"


class Answer(models.Model):
    """A graded answer. Written once, when the attempt is submitted."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    choice = models.ForeignKey(Choice, on_delete=models.PROTECT, related_name="answers")
    # As graded: if an admin later changes the key, past grades stay what they were.
    is_correct = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="answer_one_per_question"),
        ]
        indexes = [
            # Per-item facility and distractor counts: GROUP BY question, choice.
            models.Index(fields=["question", "choice"], name="answer_question_choice"),
            models.Index(fields=["question", "is_correct"], name="answer_question_correct"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt} · {self.question_id} → {self.choice_id}"
