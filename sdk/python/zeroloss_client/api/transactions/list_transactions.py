from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.transaction_list import TransactionList
from ...models.transaction_state import TransactionState
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    producer: str | Unset = UNSET,
    state: TransactionState | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["cursor"] = cursor

    params["producer"] = producer

    json_state: str | Unset = UNSET
    if not isinstance(state, Unset):
        json_state = state.value

    params["state"] = json_state

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/transactions",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | TransactionList:
    if response.status_code == 200:
        response_200 = TransactionList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | TransactionList]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    producer: str | Unset = UNSET,
    state: TransactionState | Unset = UNSET,
) -> Response[Problem | TransactionList]:
    """List the tenant's transactions, newest first

    Args:
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        producer (str | Unset):
        state (TransactionState | Unset): `pending`: stored, undecided. `committed` /
            `rolled_back`: decided.
            `aborted`: the half message was not confirmed (the begin call answered
            503); any copy the broker kept is rolled back on check-back.
            `unknown_after_max_checks`: no decision arrived before the broker's
            last check-back (transactionCheckMax); the broker discards the half
            message, so it is never consumable.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TransactionList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        producer=producer,
        state=state,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    producer: str | Unset = UNSET,
    state: TransactionState | Unset = UNSET,
) -> Problem | TransactionList | None:
    """List the tenant's transactions, newest first

    Args:
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        producer (str | Unset):
        state (TransactionState | Unset): `pending`: stored, undecided. `committed` /
            `rolled_back`: decided.
            `aborted`: the half message was not confirmed (the begin call answered
            503); any copy the broker kept is rolled back on check-back.
            `unknown_after_max_checks`: no decision arrived before the broker's
            last check-back (transactionCheckMax); the broker discards the half
            message, so it is never consumable.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TransactionList
    """

    return sync_detailed(
        client=client,
        limit=limit,
        cursor=cursor,
        producer=producer,
        state=state,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    producer: str | Unset = UNSET,
    state: TransactionState | Unset = UNSET,
) -> Response[Problem | TransactionList]:
    """List the tenant's transactions, newest first

    Args:
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        producer (str | Unset):
        state (TransactionState | Unset): `pending`: stored, undecided. `committed` /
            `rolled_back`: decided.
            `aborted`: the half message was not confirmed (the begin call answered
            503); any copy the broker kept is rolled back on check-back.
            `unknown_after_max_checks`: no decision arrived before the broker's
            last check-back (transactionCheckMax); the broker discards the half
            message, so it is never consumable.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TransactionList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        producer=producer,
        state=state,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    producer: str | Unset = UNSET,
    state: TransactionState | Unset = UNSET,
) -> Problem | TransactionList | None:
    """List the tenant's transactions, newest first

    Args:
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        producer (str | Unset):
        state (TransactionState | Unset): `pending`: stored, undecided. `committed` /
            `rolled_back`: decided.
            `aborted`: the half message was not confirmed (the begin call answered
            503); any copy the broker kept is rolled back on check-back.
            `unknown_after_max_checks`: no decision arrived before the broker's
            last check-back (transactionCheckMax); the broker discards the half
            message, so it is never consumable.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TransactionList
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            cursor=cursor,
            producer=producer,
            state=state,
        )
    ).parsed
