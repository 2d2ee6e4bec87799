IMAGE = {
    "id": "img-aaaaaaaa",
    "name": "debian-12",
    "format": "qcow2",
    "status": "active",
    "visibility": "public",
    "size_bytes": 123,
}


def test_list_json_shows_the_listed_columns(run, api):
    api.add(
        "GET", "/v1/images", (200, {"items": [IMAGE], "next_marker": None})
    )

    result = run("image", "list", "-f", "json")

    assert result.code == 0
    assert result.json() == [
        {
            "id": "img-aaaaaaaa",
            "name": "debian-12",
            "format": "qcow2",
            "status": "active",
            "visibility": "public",
        }
    ]
