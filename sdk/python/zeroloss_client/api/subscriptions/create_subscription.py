from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.subscription_input import SubscriptionInput
from ...models.subscription_with_secret import SubscriptionWithSecret
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: SubscriptionInput,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/subscriptions",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | SubscriptionWithSecret:
    if response.status_code == 201:
        response_201 = SubscriptionWithSecret.from_dict(response.json())

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

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | SubscriptionWithSecret]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: SubscriptionInput,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | SubscriptionWithSecret]:
    """Create a push or pull subscription

     A push subscription (`mode` `push`, the default): every gateway
    replica consumes the topic in the subscription's own RocketMQ
    consumer group (clustering mode) and POSTs each message to
    `endpoint`; the consumer offset advances only on a 2xx. The signing
    secret is returned only here and on rotation.

    A pull subscription (`mode` `pull`, no `endpoint`): nothing is
    POSTed; the consumer asks for messages with
    `POST /v1/subscriptions/{id}/messages/receive` and settles each with
    `…/ack`, `…/nack` or `…/extend`, on any replica. A push subscription
    without `endpoint`, or a pull one with it, is 400 `validation`.

    Besides what the schema says, the gateway refuses an `endpoint`
    that points at a non-public address (400 `invalid-webhook-url`, see
    `WebhookURL`) and an API key without `subscribe` scope for `topic`
    (403 `forbidden`).

    Args:
        idempotency_key (str | Unset):
        body (SubscriptionInput):  Example: {'name': 'billing', 'topic': 'orders', 'tagFilter':
            'created || paid', 'endpoint': 'https://billing.example.com/zeroloss', 'maxAttempts': 5}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SubscriptionWithSecret]
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
    body: SubscriptionInput,
    idempotency_key: str | Unset = UNSET,
) -> Problem | SubscriptionWithSecret | None:
    """Create a push or pull subscription

     A push subscription (`mode` `push`, the default): every gateway
    replica consumes the topic in the subscription's own RocketMQ
    consumer group (clustering mode) and POSTs each message to
    `endpoint`; the consumer offset advances only on a 2xx. The signing
    secret is returned only here and on rotation.

    A pull subscription (`mode` `pull`, no `endpoint`): nothing is
    POSTed; the consumer asks for messages with
    `POST /v1/subscriptions/{id}/messages/receive` and settles each with
    `…/ack`, `…/nack` or `…/extend`, on any replica. A push subscription
    without `endpoint`, or a pull one with it, is 400 `validation`.

    Besides what the schema says, the gateway refuses an `endpoint`
    that points at a non-public address (400 `invalid-webhook-url`, see
    `WebhookURL`) and an API key without `subscribe` scope for `topic`
    (403 `forbidden`).

    Args:
        idempotency_key (str | Unset):
        body (SubscriptionInput):  Example: {'name': 'billing', 'topic': 'orders', 'tagFilter':
            'created || paid', 'endpoint': 'https://billing.example.com/zeroloss', 'maxAttempts': 5}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SubscriptionWithSecret
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: SubscriptionInput,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | SubscriptionWithSecret]:
    """Create a push or pull subscription

     A push subscription (`mode` `push`, the default): every gateway
    replica consumes the topic in the subscription's own RocketMQ
    consumer group (clustering mode) and POSTs each message to
    `endpoint`; the consumer offset advances only on a 2xx. The signing
    secret is returned only here and on rotation.

    A pull subscription (`mode` `pull`, no `endpoint`): nothing is
    POSTed; the consumer asks for messages with
    `POST /v1/subscriptions/{id}/messages/receive` and settles each with
    `…/ack`, `…/nack` or `…/extend`, on any replica. A push subscription
    without `endpoint`, or a pull one with it, is 400 `validation`.

    Besides what the schema says, the gateway refuses an `endpoint`
    that points at a non-public address (400 `invalid-webhook-url`, see
    `WebhookURL`) and an API key without `subscribe` scope for `topic`
    (403 `forbidden`).

    Args:
        idempotency_key (str | Unset):
        body (SubscriptionInput):  Example: {'name': 'billing', 'topic': 'orders', 'tagFilter':
            'created || paid', 'endpoint': 'https://billing.example.com/zeroloss', 'maxAttempts': 5}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SubscriptionWithSecret]
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
    body: SubscriptionInput,
    idempotency_key: str | Unset = UNSET,
) -> Problem | SubscriptionWithSecret | None:
    """Create a push or pull subscription

     A push subscription (`mode` `push`, the default): every gateway
    replica consumes the topic in the subscription's own RocketMQ
    consumer group (clustering mode) and POSTs each message to
    `endpoint`; the consumer offset advances only on a 2xx. The signing
    secret is returned only here and on rotation.

    A pull subscription (`mode` `pull`, no `endpoint`): nothing is
    POSTed; the consumer asks for messages with
    `POST /v1/subscriptions/{id}/messages/receive` and settles each with
    `…/ack`, `…/nack` or `…/extend`, on any replica. A push subscription
    without `endpoint`, or a pull one with it, is 400 `validation`.

    Besides what the schema says, the gateway refuses an `endpoint`
    that points at a non-public address (400 `invalid-webhook-url`, see
    `WebhookURL`) and an API key without `subscribe` scope for `topic`
    (403 `forbidden`).

    Args:
        idempotency_key (str | Unset):
        body (SubscriptionInput):  Example: {'name': 'billing', 'topic': 'orders', 'tagFilter':
            'created || paid', 'endpoint': 'https://billing.example.com/zeroloss', 'maxAttempts': 5}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SubscriptionWithSecret
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
