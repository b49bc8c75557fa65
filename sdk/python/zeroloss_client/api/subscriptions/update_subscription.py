from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.subscription import Subscription
from ...models.subscription_patch import SubscriptionPatch
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: SubscriptionPatch,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/subscriptions/{id}".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | Subscription:
    if response.status_code == 200:
        response_200 = Subscription.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | Subscription]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: SubscriptionPatch,
) -> Response[Problem | Subscription]:
    """Change the endpoint or limits

     Changes the fields sent; the others keep their value. An `endpoint`
    pointing at a non-public address is 400 `invalid-webhook-url` (see
    `WebhookURL`), an `endpoint` for a pull subscription 409
    `subscription-state-conflict`; an unknown id is 404 `subscription-not-found`.

    Args:
        id (str):
        body (SubscriptionPatch):  Example: {'concurrency': 16}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Subscription]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: SubscriptionPatch,
) -> Problem | Subscription | None:
    """Change the endpoint or limits

     Changes the fields sent; the others keep their value. An `endpoint`
    pointing at a non-public address is 400 `invalid-webhook-url` (see
    `WebhookURL`), an `endpoint` for a pull subscription 409
    `subscription-state-conflict`; an unknown id is 404 `subscription-not-found`.

    Args:
        id (str):
        body (SubscriptionPatch):  Example: {'concurrency': 16}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Subscription
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: SubscriptionPatch,
) -> Response[Problem | Subscription]:
    """Change the endpoint or limits

     Changes the fields sent; the others keep their value. An `endpoint`
    pointing at a non-public address is 400 `invalid-webhook-url` (see
    `WebhookURL`), an `endpoint` for a pull subscription 409
    `subscription-state-conflict`; an unknown id is 404 `subscription-not-found`.

    Args:
        id (str):
        body (SubscriptionPatch):  Example: {'concurrency': 16}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Subscription]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: SubscriptionPatch,
) -> Problem | Subscription | None:
    """Change the endpoint or limits

     Changes the fields sent; the others keep their value. An `endpoint`
    pointing at a non-public address is 400 `invalid-webhook-url` (see
    `WebhookURL`), an `endpoint` for a pull subscription 409
    `subscription-state-conflict`; an unknown id is 404 `subscription-not-found`.

    Args:
        id (str):
        body (SubscriptionPatch):  Example: {'concurrency': 16}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Subscription
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
