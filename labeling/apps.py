from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"
    # Learners' own rows; everything else here is course content (courseware.signals).
    learner_models = frozenset(
        {"LabelingSession", "SessionPair", "Pick", "RewardFit", "ClassPickTally"}
    )
