from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from arame.api import errors, pagination, tags
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.catalog import (
    Flavor,
    FlavorCreate,
    FlavorPage,
    Image,
    ImageCreate,
    ImagePage,
)
from arame.api.schemas.common import TagsOut, TagsUpdate
from arame.api.services import catalog
from arame.api.services.image_delete import service as image_delete
from arame.common.db import models

flavors = APIRouter(
    route_class=RetryingRoute, prefix="/v1/flavors", tags=["flavors"]
)
images = APIRouter(
    route_class=RetryingRoute, prefix="/v1/images", tags=["images"]
)
ImageSort = pagination.sort_query("name", "status", "created_at", "updated_at")


@flavors.get("", response_model=FlavorPage)
def list_flavors(ctxt=Depends(authorize("flavors:list"))):
    return catalog.list_flavors(ctxt)


@flavors.post("", status_code=201, response_model=Flavor)
def create_flavor(
    body: FlavorCreate, ctxt=Depends(authorize("flavors:create"))
):
    return catalog.create_flavor(ctxt, body)


@flavors.delete("/{name}", status_code=204, response_class=Response)
def delete_flavor(name: str, ctxt=Depends(authorize("flavors:delete"))):
    catalog.delete_flavor(ctxt, name)


@images.get("", response_model=ImagePage, responses=errors.UNKNOWN_MARKER)
def list_images(
    ctxt=Depends(authorize("images:list")),
    name: Annotated[str | None, Query(max_length=63)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
    sort: ImageSort = None,
    tag: tags.TagQuery = None,
):
    return catalog.list_images(
        ctxt,
        name=name,
        status=status,
        limit=limit,
        marker=marker,
        sort=sort,
        tag=tag,
    )


@images.get("/{image_id}", response_model=Image)
def get_image(image_id: str, ctxt=Depends(authorize("images:get"))):
    return catalog.get_image(ctxt, image_id)


@images.delete(
    "/{image_id}",
    status_code=204,
    response_class=Response,
    responses={
        204: {
            "description": "the image is deleted (lists and gets no longer "
            "show it); a task removes its bytes from every storage node "
            "and hypervisor",
            "headers": {
                "X-Task-Id": {
                    "description": "the task removing the bytes "
                    "(GET /v1/tasks/{id})",
                    "schema": {"type": "string"},
                }
            },
        },
        **errors.refused(
            409,
            "instances or volumes still use the image (the message and "
            "`details` name them: `instances`, `instance_count`, "
            "`volumes`, `volume_count`), or it is being uploaded",
        ),
    },
)
def delete_image(image_id: str, ctxt=Depends(authorize("images:delete"))):
    """The owner's image, or any for an admin. A DELETE of an image whose
    bytes could not all be removed yet (a storage node was down) runs the
    removal again."""
    task_id = image_delete.delete(ctxt, image_id)
    return Response(status_code=204, headers={"X-Task-Id": task_id})


@images.post("", status_code=201, response_model=Image)
def create_image(body: ImageCreate, ctxt=Depends(authorize("images:create"))):
    return catalog.create_image(ctxt, body)


@images.put("/{image_id}/tags", response_model=TagsOut)
def replace_image_tags(
    image_id: str,
    body: TagsUpdate,
    ctxt=Depends(authorize("images:update_tags")),
):
    return tags.replace(
        ctxt, models.Image, "image", image_id, "images:update_tags", body.tags
    )


@images.put(
    "/{image_id}/data",
    response_model=Image,
    responses={
        **errors.refused(
            422,
            "the request does not match the schema, or the bytes do not "
            "match the image's size_bytes or sha256 (the image stays "
            "`pending`: send them again)",
        ),
        **errors.documented(
            {411: "no Content-Length: the upload needs the image's size"}
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"}
                }
            },
        }
    },
)
async def upload_image_data(
    image_id: str, request: Request, ctxt=Depends(authorize("images:upload"))
):
    """The image's bytes (Content-Length required; sha256 from the image or
    the X-Image-Sha256 header), streamed to a storage node: 200 with the
    image `available`, 422 if the bytes do not match (the image stays
    `pending`, try again), 503 if no storage node takes them."""
    return await catalog.upload_image(
        ctxt, image_id, request.headers, request.stream()
    )
