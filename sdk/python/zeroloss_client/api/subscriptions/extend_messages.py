from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.extend_request import ExtendRequest
from ...models.problem import Problem
from ...models.receipt_results import ReceiptResults
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: ExtendRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/subscriptions/{id}/messages/extend".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | ReceiptResults | None:
    if response.status_code == 200:
        response_200 = ReceiptResults.from_dict(response.json())

        return response_200

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

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | ReceiptResults]:
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
    body: ExtendRequest,
) -> Response[Problem | ReceiptResults]:
    """Keep received messages invisible longer

     Each message stays invisible `invisibleSeconds` from now. The
    result carries a new `receiptHandle` (and `invisibleUntil`): use it
    from now on, the old one is dead. Results as for `…/ack`.

    Args:
        id (str):
        body (ExtendRequest):  Example: {'receiptHandles':
            ['r1.WyJzdWJfMDFKRDJYM1k0WjVBNkI3QzhEOUUwRjFHMkgiXQ'], 'invisibleSeconds': 60}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReceiptResults]
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
    body: ExtendRequest,
) -> Problem | ReceiptResults | None:
    """Keep received messages invisible longer

     Each message stays invisible `invisibleSeconds` from now. The
    result carries a new `receiptHandle` (and `invisibleUntil`): use it
    from now on, the old one is dead. Results as for `…/ack`.

    Args:
        id (str):
        body (ExtendRequest):  Example: {'receiptHandles':
            ['r1.WyJzdWJfMDFKRDJYM1k0WjVBNkI3QzhEOUUwRjFHMkgiXQ'], 'invisibleSeconds': 60}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReceiptResults
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
    body: ExtendRequest,
) -> Response[Problem | ReceiptResults]:
    """Keep received messages invisible longer

     Each message stays invisible `invisibleSeconds` from now. The
    result carries a new `receiptHandle` (and `invisibleUntil`): use it
    from now on, the old one is dead. Results as for `…/ack`.

    Args:
        id (str):
        body (ExtendRequest):  Example: {'receiptHandles':
            ['r1.WyJzdWJfMDFKRDJYM1k0WjVBNkI3QzhEOUUwRjFHMkgiXQ'], 'invisibleSeconds': 60}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReceiptResults]
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
    body: ExtendRequest,
) -> Problem | ReceiptResults | None:
    """Keep received messages invisible longer

     Each message stays invisible `invisibleSeconds` from now. The
    result carries a new `receiptHandle` (and `invisibleUntil`): use it
    from now on, the old one is dead. Results as for `…/ack`.

    Args:
        id (str):
        body (ExtendRequest):  Example: {'receiptHandles':
            ['r1.WyJzdWJfMDFKRDJYM1k0WjVBNkI3QzhEOUUwRjFHMkgiXQ'], 'invisibleSeconds': 60}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReceiptResults
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
