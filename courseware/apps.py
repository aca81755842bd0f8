from django.apps import AppConfig


class CoursewareConfig(AppConfig):
    name = "courseware"
    verbose_name = "Course and classes"
    # Rows that belong to learners and classes, not course content: changing them does
    # not change the content version (see courseware.signals).
    learner_models = frozenset({"SectionProgress", "Classroom", "Enrollment", "ContentVersion"})

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (checks registers the system checks)

        signals.connect()
