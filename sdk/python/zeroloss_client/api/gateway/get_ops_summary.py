from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.ops_summary import OpsSummary
from ...models.problem import Problem
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/ops/summary",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> OpsSummary | Problem:
    if response.status_code == 200:
        response_200 = OpsSummary.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[OpsSummary | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[OpsSummary | Problem]:
    """Replicas seen, readiness, send and delivery rates

     What the console's overview shows, as JSON. `replicas` are the
    gateway processes whose heartbeat (every few seconds, in Redis) is
    recent; `readiness` is this replica's view of its dependencies.
    `sends` are broker sends per second on the topics the API key may
    publish to; `deliveries` are delivery outcomes per second of the
    tenant's subscriptions the key may see; both summed over every
    replica, one point per `intervalSeconds`, oldest first.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OpsSummary | Problem]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
) -> OpsSummary | Problem | None:
    """Replicas seen, readiness, send and delivery rates

     What the console's overview shows, as JSON. `replicas` are the
    gateway processes whose heartbeat (every few seconds, in Redis) is
    recent; `readiness` is this replica's view of its dependencies.
    `sends` are broker sends per second on the topics the API key may
    publish to; `deliveries` are delivery outcomes per second of the
    tenant's subscriptions the key may see; both summed over every
    replica, one point per `intervalSeconds`, oldest first.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OpsSummary | Problem
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[OpsSummary | Problem]:
    """Replicas seen, readiness, send and delivery rates

     What the console's overview shows, as JSON. `replicas` are the
    gateway processes whose heartbeat (every few seconds, in Redis) is
    recent; `readiness` is this replica's view of its dependencies.
    `sends` are broker sends per second on the topics the API key may
    publish to; `deliveries` are delivery outcomes per second of the
    tenant's subscriptions the key may see; both summed over every
    replica, one point per `intervalSeconds`, oldest first.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OpsSummary | Problem]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
) -> OpsSummary | Problem | None:
    """Replicas seen, readiness, send and delivery rates

     What the console's overview shows, as JSON. `replicas` are the
    gateway processes whose heartbeat (every few seconds, in Redis) is
    recent; `readiness` is this replica's view of its dependencies.
    `sends` are broker sends per second on the topics the API key may
    publish to; `deliveries` are delivery outcomes per second of the
    tenant's subscriptions the key may see; both summed over every
    replica, one point per `intervalSeconds`, oldest first.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OpsSummary | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
