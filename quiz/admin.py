from django import forms
from django.contrib import admin

from .models import Answer, Attempt, AttemptQuestion, Choice, Question, Quiz


class ChoiceInlineFormSet(forms.BaseInlineFormSet):
    """Exactly one correct choice per question (the database allows at most one)."""

    def clean(self):
        super().clean()
        correct = sum(
            1
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("is_correct")
        )
        if correct != 1:
            raise forms.ValidationError(f"Mark exactly one choice as correct ({correct} marked).")


class ChoiceInline(admin.StackedInline):
    model = Choice
    formset = ChoiceInlineFormSet
    extra = 0
    fields = ["order", "text", "is_correct", "explanation"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["order", "slug", "topic", "quiz", "is_active"]
    list_display_links = ["slug"]
    list_filter = ["quiz", "topic", "is_active"]
    search_fields = ["slug", "text", "choices__text"]
    inlines = [ChoiceInline]


class QuestionInline(admin.TabularInline):
    model = Question
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
