from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.producer import Producer
from ...models.producer_patch import ProducerPatch
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: ProducerPatch,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/producers/{id}".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | Producer:
    if response.status_code == 200:
        response_200 = Producer.from_dict(response.json())

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

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | Producer]:
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
    body: ProducerPatch,
) -> Response[Problem | Producer]:
    """Change a producer's name, check URL or timeout

     Changes the fields sent; the others keep their value. A `checkUrl`
    pointing at a non-public address is 400 `invalid-webhook-url` (see
    `WebhookURL`); an unknown id is 404 `producer-not-found`.

    Args:
        id (str):
        body (ProducerPatch):  Example: {'timeoutMs': 10000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Producer]
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
    body: ProducerPatch,
) -> Problem | Producer | None:
    """Change a producer's name, check URL or timeout

     Changes the fields sent; the others keep their value. A `checkUrl`
    pointing at a non-public address is 400 `invalid-webhook-url` (see
    `WebhookURL`); an unknown id is 404 `producer-not-found`.

    Args:
        id (str):
        body (ProducerPatch):  Example: {'timeoutMs': 10000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Producer
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
    body: ProducerPatch,
) -> Response[Problem | Producer]:
    """Change a producer's name, check URL or timeout

     Changes the fields sent; the others keep their value. A `checkUrl`
    pointing at a non-public address is 400 `invalid-webhook-url` (see
    `WebhookURL`); an unknown id is 404 `producer-not-found`.

    Args:
        id (str):
        body (ProducerPatch):  Example: {'timeoutMs': 10000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Producer]
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
    body: ProducerPatch,
) -> Problem | Producer | None:
    """Change a producer's name, check URL or timeout

     Changes the fields sent; the others keep their value. A `checkUrl`
    pointing at a non-public address is 400 `invalid-webhook-url` (see
    `WebhookURL`); an unknown id is 404 `producer-not-found`.

    Args:
        id (str):
        body (ProducerPatch):  Example: {'timeoutMs': 10000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Producer
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
