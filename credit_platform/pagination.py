from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Stable keyset pages by primary key: constant cost however deep an integrator pages."""

    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 1000
