from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.subscription_stats import SubscriptionStats
from ...types import Response


def _get_kwargs(
    id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/subscriptions/{id}/stats".format(
            id=quote(str(id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | SubscriptionStats:
    if response.status_code == 200:
        response_200 = SubscriptionStats.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | SubscriptionStats]:
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
) -> Response[Problem | SubscriptionStats]:
    """Lag now and delivery rates over the last minutes

     `lag` is read from the broker on each call (messages of the topic
    the subscription's consumer group has not acknowledged); it is
    absent when the broker did not answer. `deliveries` are the
    delivery outcomes per second, summed over every replica seen, one
    point per `intervalSeconds`, oldest first (what the console charts).

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SubscriptionStats]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | SubscriptionStats | None:
    """Lag now and delivery rates over the last minutes

     `lag` is read from the broker on each call (messages of the topic
    the subscription's consumer group has not acknowledged); it is
    absent when the broker did not answer. `deliveries` are the
    delivery outcomes per second, summed over every replica seen, one
    point per `intervalSeconds`, oldest first (what the console charts).

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SubscriptionStats
    """

    return sync_detailed(
        id=id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | SubscriptionStats]:
    """Lag now and delivery rates over the last minutes

     `lag` is read from the broker on each call (messages of the topic
    the subscription's consumer group has not acknowledged); it is
    absent when the broker did not answer. `deliveries` are the
    delivery outcomes per second, summed over every replica seen, one
    point per `intervalSeconds`, oldest first (what the console charts).

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SubscriptionStats]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | SubscriptionStats | None:
    """Lag now and delivery rates over the last minutes

     `lag` is read from the broker on each call (messages of the topic
    the subscription's consumer group has not acknowledged); it is
    absent when the broker did not answer. `deliveries` are the
    delivery outcomes per second, summed over every replica seen, one
    point per `intervalSeconds`, oldest first (what the console charts).

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SubscriptionStats
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
        )
    ).parsed
