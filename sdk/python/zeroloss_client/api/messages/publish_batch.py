from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.publish_batch_request import PublishBatchRequest
from ...models.published_batch import PublishedBatch
from ...types import UNSET, Response, Unset


def _get_kwargs(
    topic: str,
    *,
    body: PublishBatchRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/topics/{topic}/message-batches".format(
            topic=quote(str(topic), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | PublishedBatch:
    if response.status_code == 201:
        response_201 = PublishedBatch.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | PublishedBatch]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    topic: str,
    *,
    client: AuthenticatedClient | Client,
    body: PublishBatchRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | PublishedBatch]:
    """Send up to 100 messages in one broker round trip

     Sends all messages of the batch to one queue of `topic` in a single
    broker request. The batch is stored whole or not at all: 201 only when
    the broker answered SEND_OK, with one id per message in request order.
    Batch messages cannot be delayed and carry no sharding key.

    Besides what the schema says, the gateway refuses (and sends
    nothing): a batch over 4 MiB once decoded, counting about 256 bytes
    of overhead per message (413 `payload-too-large`); a message whose
    properties exceed RocketMQ's 32,767 encoded bytes (4xx, see
    `Properties`); a reserved property name for OpenAPI 3.0 tools that
    ignore `propertyNames` (400 `validation`); an API key without
    `publish` scope for `topic` (403 `forbidden`); a topic missing on
    the cluster (404 `topic-not-found`); an `Idempotency-Key` still in
    use (409) or used with another payload (422).

    Args:
        topic (str):
        idempotency_key (str | Unset):
        body (PublishBatchRequest):  Example: {'messages': [{'body': '{"orderId":1001}', 'tag':
            'created'}, {'body': 'aGVsbG8=', 'encoding': 'base64', 'keys': ['order-1002']}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | PublishedBatch]
    """

    kwargs = _get_kwargs(
        topic=topic,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    topic: str,
    *,
    client: AuthenticatedClient | Client,
    body: PublishBatchRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | PublishedBatch | None:
    """Send up to 100 messages in one broker round trip

     Sends all messages of the batch to one queue of `topic` in a single
    broker request. The batch is stored whole or not at all: 201 only when
    the broker answered SEND_OK, with one id per message in request order.
    Batch messages cannot be delayed and carry no sharding key.

    Besides what the schema says, the gateway refuses (and sends
    nothing): a batch over 4 MiB once decoded, counting about 256 bytes
    of overhead per message (413 `payload-too-large`); a message whose
    properties exceed RocketMQ's 32,767 encoded bytes (4xx, see
    `Properties`); a reserved property name for OpenAPI 3.0 tools that
    ignore `propertyNames` (400 `validation`); an API key without
    `publish` scope for `topic` (403 `forbidden`); a topic missing on
    the cluster (404 `topic-not-found`); an `Idempotency-Key` still in
    use (409) or used with another payload (422).

    Args:
        topic (str):
        idempotency_key (str | Unset):
        body (PublishBatchRequest):  Example: {'messages': [{'body': '{"orderId":1001}', 'tag':
            'created'}, {'body': 'aGVsbG8=', 'encoding': 'base64', 'keys': ['order-1002']}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | PublishedBatch
    """

    return sync_detailed(
        topic=topic,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    topic: str,
    *,
    client: AuthenticatedClient | Client,
    body: PublishBatchRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | PublishedBatch]:
    """Send up to 100 messages in one broker round trip

     Sends all messages of the batch to one queue of `topic` in a single
    broker request. The batch is stored whole or not at all: 201 only when
    the broker answered SEND_OK, with one id per message in request order.
    Batch messages cannot be delayed and carry no sharding key.

    Besides what the schema says, the gateway refuses (and sends
    nothing): a batch over 4 MiB once decoded, counting about 256 bytes
    of overhead per message (413 `payload-too-large`); a message whose
    properties exceed RocketMQ's 32,767 encoded bytes (4xx, see
    `Properties`); a reserved property name for OpenAPI 3.0 tools that
    ignore `propertyNames` (400 `validation`); an API key without
    `publish` scope for `topic` (403 `forbidden`); a topic missing on
    the cluster (404 `topic-not-found`); an `Idempotency-Key` still in
    use (409) or used with another payload (422).

    Args:
        topic (str):
        idempotency_key (str | Unset):
        body (PublishBatchRequest):  Example: {'messages': [{'body': '{"orderId":1001}', 'tag':
            'created'}, {'body': 'aGVsbG8=', 'encoding': 'base64', 'keys': ['order-1002']}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | PublishedBatch]
    """

    kwargs = _get_kwargs(
        topic=topic,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    topic: str,
    *,
    client: AuthenticatedClient | Client,
    body: PublishBatchRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | PublishedBatch | None:
    """Send up to 100 messages in one broker round trip

     Sends all messages of the batch to one queue of `topic` in a single
    broker request. The batch is stored whole or not at all: 201 only when
    the broker answered SEND_OK, with one id per message in request order.
    Batch messages cannot be delayed and carry no sharding key.

    Besides what the schema says, the gateway refuses (and sends
    nothing): a batch over 4 MiB once decoded, counting about 256 bytes
    of overhead per message (413 `payload-too-large`); a message whose
    properties exceed RocketMQ's 32,767 encoded bytes (4xx, see
    `Properties`); a reserved property name for OpenAPI 3.0 tools that
    ignore `propertyNames` (400 `validation`); an API key without
    `publish` scope for `topic` (403 `forbidden`); a topic missing on
    the cluster (404 `topic-not-found`); an `Idempotency-Key` still in
    use (409) or used with another payload (422).

    Args:
        topic (str):
        idempotency_key (str | Unset):
        body (PublishBatchRequest):  Example: {'messages': [{'body': '{"orderId":1001}', 'tag':
            'created'}, {'body': 'aGVsbG8=', 'encoding': 'base64', 'keys': ['order-1002']}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | PublishedBatch
    """

    return (
        await asyncio_detailed(
            topic=topic,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
