from django.apps import AppConfig


class CoursewareConfig(AppConfig):
    name = "courseware"
    verbose_name = "Course and classes"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the cache's receivers)
