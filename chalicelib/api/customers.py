"""Customers: one view merged from the data mesh's customer products."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.customers import CustomerView
from ..errors import DependencyUnavailable, Forbidden
from ..web import ApiRequest, Routes
from . import blueprint

routes = Routes(blueprint())


@routes.route(
    "/customers/{customer_id}", "GET",
    summary="The customer merged from the data mesh's customer products; each field with its source and age. For "
    "caseworkers, supervisors and admins, and for anyone who may see one of the customer's cases (404 otherwise)",
    response=CustomerView, raises=(Forbidden, DependencyUnavailable), validated_params=("customer_id",),
)
def get_customer(req: ApiRequest[None], customer_id: str) -> CustomerView:
    return container().customer_views.view(req.principal, customer_id)
