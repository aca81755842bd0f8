from django import forms
from django.contrib import admin

from .models import Answer, Attempt, AttemptQuestion, Choice, Question, Quiz


class ChoiceForm(forms.ModelForm):
    def validate_constraints(self):
        # "At most one correct choice" is checked across the whole formset instead (see
        # below), so that an admin can move the key from one choice to another in one save.
        try:
            self.instance.validate_constraints(exclude={"is_correct"})
        except forms.ValidationError as exc:
            self._update_errors(exc)


class ChoiceInlineFormSet(forms.BaseInlineFormSet):
    """Exactly one correct choice per question (the database allows at most one)."""

    def _keeps_correct(self, form) -> bool:
        return bool(
            form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("is_correct")
        )

    def clean(self):
        super().clean()
        correct = sum(self._keeps_correct(form) for form in self.forms)
        if correct != 1:
            raise forms.ValidationError(f"Mark exactly one choice as correct ({correct} marked).")

    def save(self, commit=True):
        if commit and self.instance.pk:
            # Clear the old key first: saving the new one while the old is still marked
            # would break the database's one-correct-choice constraint mid-save.
            keep = [form.instance.pk for form in self.forms if self._keeps_correct(form)]
            Choice.objects.filter(question=self.instance, is_correct=True).exclude(
                pk__in=[pk for pk in keep if pk]
            ).update(is_correct=False)
        return super().save(commit)


class ChoiceInline(admin.StackedInline):
    model = Choice
    form = ChoiceForm
    formset = ChoiceInlineFormSet
    extra = 0
    fields = ["order", "text", "is_correct", "explanation"]


def bank_too_small_message(active: int, needed: int) -> str:
    return (
        f"The quiz would have {active} active question{'s' if active != 1 else ''} and each "
        f"attempt draws {needed}: learners could not start it. Add or activate questions "
        "first, or lower the questions per attempt."
    )


class QuestionForm(forms.ModelForm):
    """A question may not leave its quiz with fewer active questions than an attempt draws."""

    def clean(self):
        cleaned = super().clean()
        old = self.instance
        if not old.pk or not old.is_active:
            return cleaned
        leaving = not cleaned.get("is_active") or cleaned.get("quiz") != old.quiz
        if leaving:
            quiz = Quiz.objects.get(pk=old.quiz_id)
            rest = Question.objects.filter(quiz=quiz, is_active=True).exclude(pk=old.pk).count()
            if rest < quiz.questions_per_attempt:
                raise forms.ValidationError(
                    bank_too_small_message(rest, quiz.questions_per_attempt)
                )
        return cleaned


class QuestionInlineFormSet(forms.BaseInlineFormSet):
    """On the quiz's page: enough active questions for one attempt's draw."""

    def clean(self):
        super().clean()
        kept = [
            form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            return  # a quiz without questions yet: its page says it cannot start
        active = sum(bool(form.cleaned_data.get("is_active")) for form in kept)
        needed = self.instance.questions_per_attempt
        if needed and active < needed:
            raise forms.ValidationError(bank_too_small_message(active, needed))


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    form = QuestionForm
    list_display = ["order", "slug", "topic", "quiz", "is_active"]
    list_display_links = ["slug"]
    list_filter = ["quiz", "topic", "is_active"]
    search_fields = ["slug", "text", "choices__text"]
    inlines = [ChoiceInline]


class QuestionInline(admin.TabularInline):
    model = Question
    formset = QuestionInlineFormSet
    extra = 0
    fields = ["order", "slug", "topic", "is_active"]
    show_change_link = True


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ["title", "module", "pass_mark", "questions_per_attempt"]
    inlines = [QuestionInline]


class AttemptQuestionInline(admin.TabularInline):
    model = AttemptQuestion
    extra = 0
    can_delete = False
    readonly_fields = ["position", "question", "choice_order"]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    can_delete = False
    readonly_fields = ["question", "choice", "is_correct"]


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    """Attempts are the learners' records: read them here, do not edit them."""

    list_display = ["user", "quiz", "number", "submitted_at", "score", "passed", "duration"]
    list_filter = ["quiz", "passed"]
    search_fields = ["user__username"]
    list_select_related = ["user", "quiz"]
    readonly_fields = [
        "user",
        "quiz",
        "number",
        "started_at",
        "submitted_at",
        "score",
        "passed",
        "duration",
    ]
    inlines = [AttemptQuestionInline, AnswerInline]

    def has_add_permission(self, request):
        return False
