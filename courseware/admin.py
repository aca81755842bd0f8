from django.contrib import admin, messages
from django.db.models import Count

from . import services
from .models import (
    Classroom,
    ComparePrompt,
    CompareResponse,
    Course,
    Enrollment,
    Figure,
    Module,
    PipelineStage,
    RecapRow,
    Section,
    SectionProgress,
    SFTExample,
    Source,
    TeachingText,
)


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0
    fields = ["number", "slug", "title", "is_published"]
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ModuleInline]


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = ["order", "slug", "title", "summary", "url_name", "body"]
    show_change_link = True


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "course", "is_published"]
    list_filter = ["course"]
    inlines = [SectionInline]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["title", "module", "order", "url_name"]
    list_filter = ["module"]
    search_fields = ["title", "body"]


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    extra = 0
    autocomplete_fields = ["student"]


@admin.register(Classroom)
class ClassroomAdmin(admin.ModelAdmin):
    list_display = ["name", "course", "join_code", "join_code_expires_at", "student_count"]
    search_fields = ["name", "join_code"]
    filter_horizontal = ["instructors"]
    readonly_fields = ["created_at"]
    inlines = [EnrollmentInline]
    actions = ["regenerate_join_codes"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_students=Count("enrollments"))

    @admin.display(ordering="n_students", description="students")
    def student_count(self, obj: Classroom) -> int:
        return obj.n_students

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Students added or removed here: what classmates see of the class is recounted.
        services.roster_notify(classroom_ids=[form.instance.pk])

    @admin.action(description="Regenerate the join codes of the selected classes")
    def regenerate_join_codes(self, request, queryset):
        for classroom in queryset:
            services.join_code_regenerate(classroom=classroom)
        self.message_user(
            request, f"{queryset.count()} join code(s) regenerated.", messages.SUCCESS
        )


@admin.register(SectionProgress)
class SectionProgressAdmin(admin.ModelAdmin):
    list_display = ["user", "section", "first_seen_at", "done_at"]
    list_filter = ["section__module"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]


# -- Teaching content -------------------------------------------------------------------------


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["title", "authors", "year", "arxiv_id", "venue", "key"]
    search_fields = ["title", "authors", "arxiv_id", "venue", "key"]


@admin.register(TeachingText)
class TeachingTextAdmin(admin.ModelAdmin):
    list_display = ["key", "title"]
    search_fields = ["key", "title", "body"]


@admin.register(PipelineStage)
class PipelineStageAdmin(admin.ModelAdmin):
    list_display = ["title", "order", "group", "slug"]
    list_filter = ["group"]
    filter_horizontal = ["sources"]
    search_fields = ["title", "summary", "body"]


@admin.register(Figure)
class FigureAdmin(admin.ModelAdmin):
    list_display = ["label", "display", "group", "order", "is_baseline", "source"]
    list_filter = ["group"]
    list_select_related = ["source"]


@admin.register(SFTExample)
class SFTExampleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "order", "slug", "provenance"]
    list_filter = ["provenance"]
    fieldsets = [
        (None, {"fields": ["slug", "order", "instruction", "response", "note"]}),
        (
            "What a base model wrote, and where it comes from",
            {"fields": ["base_output", "provenance", "source", "attribution"]},
        ),
    ]


class CompareResponseInline(admin.StackedInline):
    model = CompareResponse
    extra = 0
    max_num = 3
    fields = ["stage", "text", "provenance", "source", "attribution", "note"]


@admin.register(ComparePrompt)
class ComparePromptAdmin(admin.ModelAdmin):
    list_display = ["title", "order", "slug"]
    search_fields = ["title", "prompt"]
    inlines = [CompareResponseInline]


@admin.register(CompareResponse)
class CompareResponseAdmin(admin.ModelAdmin):
    list_display = ["prompt", "stage", "provenance"]
    list_filter = ["stage", "provenance"]
    list_select_related = ["prompt"]
    search_fields = ["text", "note"]


@admin.register(RecapRow)
class RecapRowAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "stage"]
    list_select_related = ["stage"]
    filter_horizontal = ["sources"]
