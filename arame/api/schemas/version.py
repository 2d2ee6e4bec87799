from pydantic import BaseModel, Field


class Version(BaseModel):
    """What this API is: its version, its build, what it offers."""

    api_version: str = Field(
        description="major.minor of the REST API; the minor moves when "
        "routes or fields are added",
        examples=["1.1"],
    )
    version: str = Field(description="the Arame release", examples=["0.1.0"])
    build: str | None = Field(
        description="the commit the server was built from, when its "
        "package metadata records it; null otherwise",
    )
    features: list[str] = Field(
        description="capabilities a client may test for (sorted), e.g. "
        "`unit_groups`, `image_delete`, `instance_security_groups`",
    )
