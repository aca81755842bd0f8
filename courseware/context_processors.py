from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import is_instructor


def roles(request: HttpRequest) -> dict:
    # Lazy: pages that never show the instructor link pay no query for it.
    return {"is_instructor": SimpleLazyObject(lambda: is_instructor(request.user))}
