import json

import pytest


@pytest.mark.gen_test
async def test_create_then_read(api):
    person = await api.create()
    response = await api.request("GET", f"/persons/{person['id']}")
    assert response.code == 200
    assert json.loads(response.body) == person
