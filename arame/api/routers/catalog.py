from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from arame.api.auth.deps import authorize
from arame.api.schemas.catalog import (Flavor, FlavorCreate, FlavorPage, Image,
                                       ImagePage)
from arame.api.services import catalog

flavors = APIRouter(prefix="/v1/flavors", tags=["flavors"])
images = APIRouter(prefix="/v1/images", tags=["images"])


@flavors.get("", response_model=FlavorPage)
def list_flavors(ctxt=Depends(authorize("flavors:list"))):
    return catalog.list_flavors(ctxt)


@flavors.post("", status_code=201, response_model=Flavor)
def create_flavor(body: FlavorCreate, ctxt=Depends(authorize("flavors:create"))):
    return catalog.create_flavor(ctxt, body)


@flavors.delete("/{name}", status_code=204, response_class=Response)
def delete_flavor(name: str, ctxt=Depends(authorize("flavors:delete"))):
    catalog.delete_flavor(ctxt, name)


@images.get("", response_model=ImagePage)
def list_images(ctxt=Depends(authorize("images:list")),
                name: Annotated[str | None, Query(max_length=63)] = None,
                status: Annotated[str | None, Query(max_length=16)] = None,
                limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
                marker: Annotated[str | None, Query(max_length=16)] = None):
    return catalog.list_images(ctxt, name=name, status=status, limit=limit,
                               marker=marker)


@images.get("/{image_id}", response_model=Image)
def get_image(image_id: str, ctxt=Depends(authorize("images:get"))):
    return catalog.get_image(ctxt, image_id)
