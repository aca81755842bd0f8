from django.contrib import admin

from .models import RLVRAnswer, RLVRTask


class RLVRAnswerInline(admin.TabularInline):
    model = RLVRAnswer
    extra = 0


@admin.register(RLVRTask)
class RLVRTaskAdmin(admin.ModelAdmin):
    list_display = ["order", "prompt", "kind"]
    list_display_links = ["prompt"]
    inlines = [RLVRAnswerInline]
