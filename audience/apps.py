from django.apps import AppConfig


class AudienceConfig(AppConfig):
    name = "audience"
    verbose_name = "Audience"

    def ready(self) -> None:
        from accounts.plans import plan_limit_check_register

        from . import receivers  # noqa: F401 - connects the signal receivers
        from .limits import profiles_fit_the_plan

        plan_limit_check_register(profiles_fit_the_plan)
