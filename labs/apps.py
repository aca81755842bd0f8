from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "labs"
    # Learners' own rows (nothing here is course content: the labs read labeling's).
    learner_models = frozenset({"HeldoutPick"})
