"""local/botocore_models.py: botocore sessions share each parsed service model instead of parsing it again."""
from __future__ import annotations

import botocore.session

from local.botocore_models import share_botocore_models


def test_two_sessions_share_one_parse_of_a_service_model() -> None:
    share_botocore_models()
    share_botocore_models()  # twice: installed once
    first = botocore.session.get_session().get_service_data("sqs")
    second = botocore.session.get_session().get_service_data("sqs")
    assert first is second
    client = botocore.session.get_session().create_client("sqs", region_name="us-east-1",
                                                          aws_access_key_id="t", aws_secret_access_key="t")
    assert client.meta.service_model.service_name == "sqs"
