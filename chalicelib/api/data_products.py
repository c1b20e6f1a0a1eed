"""Data products this system publishes: the case data product's descriptor. Its rows are published from the
table's stream (`streams.publish_case_data`)."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.data_products import DataProductView
from ..errors import DependencyUnavailable, Forbidden
from ..web import ApiRequest, Routes
from . import blueprint

routes = Routes(blueprint())


@routes.route(
    "/data-products/cases", "GET", summary="The case data product: descriptor, contract, location and freshness",
    response=DataProductView, raises=(Forbidden, DependencyUnavailable),
)
def case_data_product(req: ApiRequest[None]) -> DataProductView:
    return container().case_data.view(req.principal)
