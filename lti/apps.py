from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LMS (LTI 1.3)"
    # None of LTI's tables is course content: registrations, keys, launch handshakes,
    # links and score reports change with every launch and must not draw a new content
    # version (courseware.signals), which would make every server rebuild the content.
    learner_models = frozenset(
        {
            "Platform",
            "Deployment",
            "ToolKey",
            "LtiUser",
            "LtiContext",
            "Membership",
            "ResourceLink",
            "LaunchValue",
            "ScoreOutbox",
        }
    )
