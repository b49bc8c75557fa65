from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.begin_transaction_request import BeginTransactionRequest
from ...models.problem import Problem
from ...models.transaction import Transaction
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: BeginTransactionRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/transactions",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | Transaction:
    if response.status_code == 201:
        response_201 = Transaction.from_dict(response.json())

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
) -> Response[Problem | Transaction]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: BeginTransactionRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | Transaction]:
    """Send a half message (begin a transaction)

     Stores a RocketMQ half message and answers 201 only after the broker
    answered SEND_OK; the transaction's record (with the broker
    coordinates needed to end it) is in Redis before the answer. The
    message is not consumable until committed. Decide with `commit` or
    `rollback` on any gateway replica; if no decision arrives, the broker
    checks back and the gateway asks the producer's `checkUrl`.

    Besides what the schema says, the gateway refuses (and sends
    nothing): a `producer` this tenant does not have (404
    `producer-not-found`); a topic missing on the cluster (404
    `topic-not-found`); a body over 4 MiB once decoded (413
    `payload-too-large`); properties over RocketMQ's 32,767 encoded
    bytes (4xx, see `Properties`); a reserved property name for OpenAPI
    3.0 tools that ignore `propertyNames` (400 `validation`); an API key
    without `transact` scope for `topic` (403 `forbidden`); an
    `Idempotency-Key` still in use (409) or used with another payload
    (422).

    Args:
        idempotency_key (str | Unset):
        body (BeginTransactionRequest):  Example: {'producer': 'prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H',
            'topic': 'orders', 'body': '{"orderId":1001,"status":"paid"}', 'tag': 'paid',
            'checkAfterSeconds': 30}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Transaction]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: BeginTransactionRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | Transaction | None:
    """Send a half message (begin a transaction)

     Stores a RocketMQ half message and answers 201 only after the broker
    answered SEND_OK; the transaction's record (with the broker
    coordinates needed to end it) is in Redis before the answer. The
    message is not consumable until committed. Decide with `commit` or
    `rollback` on any gateway replica; if no decision arrives, the broker
    checks back and the gateway asks the producer's `checkUrl`.

    Besides what the schema says, the gateway refuses (and sends
    nothing): a `producer` this tenant does not have (404
    `producer-not-found`); a topic missing on the cluster (404
    `topic-not-found`); a body over 4 MiB once decoded (413
    `payload-too-large`); properties over RocketMQ's 32,767 encoded
    bytes (4xx, see `Properties`); a reserved property name for OpenAPI
    3.0 tools that ignore `propertyNames` (400 `validation`); an API key
    without `transact` scope for `topic` (403 `forbidden`); an
    `Idempotency-Key` still in use (409) or used with another payload
    (422).

    Args:
        idempotency_key (str | Unset):
        body (BeginTransactionRequest):  Example: {'producer': 'prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H',
            'topic': 'orders', 'body': '{"orderId":1001,"status":"paid"}', 'tag': 'paid',
            'checkAfterSeconds': 30}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Transaction
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: BeginTransactionRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | Transaction]:
    """Send a half message (begin a transaction)

     Stores a RocketMQ half message and answers 201 only after the broker
    answered SEND_OK; the transaction's record (with the broker
    coordinates needed to end it) is in Redis before the answer. The
    message is not consumable until committed. Decide with `commit` or
    `rollback` on any gateway replica; if no decision arrives, the broker
    checks back and the gateway asks the producer's `checkUrl`.

    Besides what the schema says, the gateway refuses (and sends
    nothing): a `producer` this tenant does not have (404
    `producer-not-found`); a topic missing on the cluster (404
    `topic-not-found`); a body over 4 MiB once decoded (413
    `payload-too-large`); properties over RocketMQ's 32,767 encoded
    bytes (4xx, see `Properties`); a reserved property name for OpenAPI
    3.0 tools that ignore `propertyNames` (400 `validation`); an API key
    without `transact` scope for `topic` (403 `forbidden`); an
    `Idempotency-Key` still in use (409) or used with another payload
    (422).

    Args:
        idempotency_key (str | Unset):
        body (BeginTransactionRequest):  Example: {'producer': 'prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H',
            'topic': 'orders', 'body': '{"orderId":1001,"status":"paid"}', 'tag': 'paid',
            'checkAfterSeconds': 30}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Transaction]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: BeginTransactionRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | Transaction | None:
    """Send a half message (begin a transaction)

     Stores a RocketMQ half message and answers 201 only after the broker
    answered SEND_OK; the transaction's record (with the broker
    coordinates needed to end it) is in Redis before the answer. The
    message is not consumable until committed. Decide with `commit` or
    `rollback` on any gateway replica; if no decision arrives, the broker
    checks back and the gateway asks the producer's `checkUrl`.

    Besides what the schema says, the gateway refuses (and sends
    nothing): a `producer` this tenant does not have (404
    `producer-not-found`); a topic missing on the cluster (404
    `topic-not-found`); a body over 4 MiB once decoded (413
    `payload-too-large`); properties over RocketMQ's 32,767 encoded
    bytes (4xx, see `Properties`); a reserved property name for OpenAPI
    3.0 tools that ignore `propertyNames` (400 `validation`); an API key
    without `transact` scope for `topic` (403 `forbidden`); an
    `Idempotency-Key` still in use (409) or used with another payload
    (422).

    Args:
        idempotency_key (str | Unset):
        body (BeginTransactionRequest):  Example: {'producer': 'prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H',
            'topic': 'orders', 'body': '{"orderId":1001,"status":"paid"}', 'tag': 'paid',
            'checkAfterSeconds': 30}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Transaction
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
