from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.dead_letter_count import DeadLetterCount
from ...models.problem import Problem
from ...models.redrive_request import RedriveRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    body: RedriveRequest | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/subscriptions/{id}/dead-letters/redrive".format(
            id=quote(str(id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DeadLetterCount | Problem:
    if response.status_code == 200:
        response_200 = DeadLetterCount.from_dict(response.json())

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
) -> Response[DeadLetterCount | Problem]:
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
    body: RedriveRequest | Unset = UNSET,
) -> Response[DeadLetterCount | Problem]:
    """Deliver dead letters again (through dedup)

     The copies go to the subscription's retry topic with a fresh attempt
    count: a push subscription delivers them again, a pull
    subscription's next receives return them. Each dead letter is sent
    once (a second redrive does not repeat it); dedup still applies.

    Args:
        id (str):
        body (RedriveRequest | Unset):  Example: {'messageIds':
            ['0192F4C3A8B07D1E2F3A4B5C6D7E0000']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeadLetterCount | Problem]
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
    body: RedriveRequest | Unset = UNSET,
) -> DeadLetterCount | Problem | None:
    """Deliver dead letters again (through dedup)

     The copies go to the subscription's retry topic with a fresh attempt
    count: a push subscription delivers them again, a pull
    subscription's next receives return them. Each dead letter is sent
    once (a second redrive does not repeat it); dedup still applies.

    Args:
        id (str):
        body (RedriveRequest | Unset):  Example: {'messageIds':
            ['0192F4C3A8B07D1E2F3A4B5C6D7E0000']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeadLetterCount | Problem
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
    body: RedriveRequest | Unset = UNSET,
) -> Response[DeadLetterCount | Problem]:
    """Deliver dead letters again (through dedup)

     The copies go to the subscription's retry topic with a fresh attempt
    count: a push subscription delivers them again, a pull
    subscription's next receives return them. Each dead letter is sent
    once (a second redrive does not repeat it); dedup still applies.

    Args:
        id (str):
        body (RedriveRequest | Unset):  Example: {'messageIds':
            ['0192F4C3A8B07D1E2F3A4B5C6D7E0000']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeadLetterCount | Problem]
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
    body: RedriveRequest | Unset = UNSET,
) -> DeadLetterCount | Problem | None:
    """Deliver dead letters again (through dedup)

     The copies go to the subscription's retry topic with a fresh attempt
    count: a push subscription delivers them again, a pull
    subscription's next receives return them. Each dead letter is sent
    once (a second redrive does not repeat it); dedup still applies.

    Args:
        id (str):
        body (RedriveRequest | Unset):  Example: {'messageIds':
            ['0192F4C3A8B07D1E2F3A4B5C6D7E0000']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeadLetterCount | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
