from django.apps import AppConfig


class QuizConfig(AppConfig):
    name = "quiz"
    # Learners' own rows; the bank (quizzes, questions, choices) is course content.
    learner_models = frozenset({"Attempt", "AttemptQuestion", "Answer"})
