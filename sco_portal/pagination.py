from typing import Any

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page envelope; clients may ask for up to 100 rows a page.

    A page past the last (or page 0) answers 404, as in DRF; the schema says so and gives `page`
    its lower bound.
    """

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                # DRF is lenient here, and the schema says so instead of promising a refusal.
                parameter["description"] = (
                    f"Rows per page: more than {self.max_page_size} are served as {self.max_page_size}; "
                    f"a value that is not a positive whole number gives the default of {self.page_size or 50}."
                )
        return parameters
