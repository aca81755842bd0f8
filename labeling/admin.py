from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from .models import (
    Candidate,
    CritiqueExample,
    HeldOutPrompt,
    LabelingSession,
    Pick,
    PreferencePair,
    Principle,
    Response,
    SessionPair,
    Trait,
    validate_candidate_probabilities,
)


@admin.register(Trait)
class TraitAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "phrase", "order"]
    list_editable = ["order"]


class ResponseInline(admin.StackedInline):
    model = Response
    # Exactly two responses per pair, keyed a and b.
    min_num = 2
    max_num = 2
    extra = 0
    can_delete = False


@admin.register(PreferencePair)
class PreferencePairAdmin(admin.ModelAdmin):
    list_display = ["order", "prompt", "tests", "is_active"]
    list_display_links = ["prompt"]
    inlines = [ResponseInline]


class CandidateFormSet(BaseInlineFormSet):
    """The candidates as submitted (not as stored) must number 4–6 and sum to 1."""

    def clean(self) -> None:
        super().clean()
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            validate_candidate_probabilities([data.get("ref_prob") or 0 for data in kept])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


class CandidateInline(admin.StackedInline):
    model = Candidate
    formset = CandidateFormSet
    extra = 0


@admin.register(HeldOutPrompt)
class HeldOutPromptAdmin(admin.ModelAdmin):
    list_display = ["order", "prompt", "slug"]
    list_display_links = ["prompt"]
    inlines = [CandidateInline]


@admin.register(Principle)
class PrincipleAdmin(admin.ModelAdmin):
    list_display = ["order", "name", "weights"]
    list_display_links = ["name"]


@admin.register(CritiqueExample)
class CritiqueExampleAdmin(admin.ModelAdmin):
    list_display = ["order", "principle", "slug", "provenance"]
    list_display_links = ["principle"]
    list_select_related = ["principle"]
    fieldsets = [
        (None, {"fields": ["slug", "order", "principle", "prompt", "first_response"]}),
        ("Critique", {"fields": ["critique_request", "critique"]}),
        ("Revision", {"fields": ["revision_request", "revision", "note"]}),
        ("Where the model's texts come from", {"fields": ["provenance", "source", "attribution"]}),
    ]


class SessionPairInline(admin.TabularInline):
    model = SessionPair
    extra = 0
    can_delete = False
    readonly_fields = ["position", "pair", "left"]


class PickInline(admin.TabularInline):
    model = Pick
    extra = 0
    can_delete = False
    readonly_fields = ["pair", "chosen", "chosen_left", "created_at", "updated_at"]


@admin.register(LabelingSession)
class LabelingSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "started_at", "finished_at"]
    list_filter = [("finished_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
    inlines = [SessionPairInline, PickInline]
