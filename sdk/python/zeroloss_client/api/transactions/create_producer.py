from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.producer_input import ProducerInput
from ...models.producer_with_secret import ProducerWithSecret
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: ProducerInput,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/producers",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | ProducerWithSecret:
    if response.status_code == 201:
        response_201 = ProducerWithSecret.from_dict(response.json())

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

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | ProducerWithSecret]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ProducerInput,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | ProducerWithSecret]:
    """Register a transactional producer and its check webhook

     A producer names the client-side owner of transactions and the URL the
    gateway calls when the broker checks back an undecided transaction.
    The signing secret is returned only here and on rotation.

    Besides what the schema says, the gateway refuses a `checkUrl` that
    points at a non-public address (400 `invalid-webhook-url`, see
    `WebhookURL`) and an API key without `transact` scope (403
    `forbidden`).

    Args:
        idempotency_key (str | Unset):
        body (ProducerInput):  Example: {'name': 'orders-service', 'checkUrl':
            'https://orders.example.com/zeroloss/check', 'timeoutMs': 5000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ProducerWithSecret]
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
    body: ProducerInput,
    idempotency_key: str | Unset = UNSET,
) -> Problem | ProducerWithSecret | None:
    """Register a transactional producer and its check webhook

     A producer names the client-side owner of transactions and the URL the
    gateway calls when the broker checks back an undecided transaction.
    The signing secret is returned only here and on rotation.

    Besides what the schema says, the gateway refuses a `checkUrl` that
    points at a non-public address (400 `invalid-webhook-url`, see
    `WebhookURL`) and an API key without `transact` scope (403
    `forbidden`).

    Args:
        idempotency_key (str | Unset):
        body (ProducerInput):  Example: {'name': 'orders-service', 'checkUrl':
            'https://orders.example.com/zeroloss/check', 'timeoutMs': 5000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ProducerWithSecret
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ProducerInput,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | ProducerWithSecret]:
    """Register a transactional producer and its check webhook

     A producer names the client-side owner of transactions and the URL the
    gateway calls when the broker checks back an undecided transaction.
    The signing secret is returned only here and on rotation.

    Besides what the schema says, the gateway refuses a `checkUrl` that
    points at a non-public address (400 `invalid-webhook-url`, see
    `WebhookURL`) and an API key without `transact` scope (403
    `forbidden`).

    Args:
        idempotency_key (str | Unset):
        body (ProducerInput):  Example: {'name': 'orders-service', 'checkUrl':
            'https://orders.example.com/zeroloss/check', 'timeoutMs': 5000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ProducerWithSecret]
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
    body: ProducerInput,
    idempotency_key: str | Unset = UNSET,
) -> Problem | ProducerWithSecret | None:
    """Register a transactional producer and its check webhook

     A producer names the client-side owner of transactions and the URL the
    gateway calls when the broker checks back an undecided transaction.
    The signing secret is returned only here and on rotation.

    Besides what the schema says, the gateway refuses a `checkUrl` that
    points at a non-public address (400 `invalid-webhook-url`, see
    `WebhookURL`) and an API key without `transact` scope (403
    `forbidden`).

    Args:
        idempotency_key (str | Unset):
        body (ProducerInput):  Example: {'name': 'orders-service', 'checkUrl':
            'https://orders.example.com/zeroloss/check', 'timeoutMs': 5000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ProducerWithSecret
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
