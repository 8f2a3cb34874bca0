from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page envelope; clients may ask for up to 100 rows a page."""

    page_size_query_param = "page_size"
    max_page_size = 100
