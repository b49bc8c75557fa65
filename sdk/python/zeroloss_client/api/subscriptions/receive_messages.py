from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.receive_request import ReceiveRequest
from ...models.received_messages import ReceivedMessages
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    body: ReceiveRequest | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/subscriptions/{id}/messages/receive".format(
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
) -> Problem | ReceivedMessages:
    if response.status_code == 200:
        response_200 = ReceivedMessages.from_dict(response.json())

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

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | ReceivedMessages]:
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
    body: ReceiveRequest | Unset = UNSET,
) -> Response[Problem | ReceivedMessages]:
    """Receive messages of a pull subscription (long poll)

     Answers up to `maxMessages` messages as soon as any is there, or an
    empty list after `waitSeconds`. Each message stays invisible to
    other receives until `invisibleUntil`; settle it before then with
    its `receiptHandle` on any replica: `…/ack` when processed, `…/nack`
    to have it back after a delay, `…/extend` to keep it longer. A
    message not acked in time is received again, with `attempt` + 1;
    one received `maxAttempts` times and not acked goes to the
    dead-letter queue (`…/dead-letters`) instead of a further receive.

    Delivery is at least once: a message acked once is not handed out
    again (within the gateway's dedup window, by the subscription's
    `dedupKey`), but one whose invisibility ran out before its ack may
    already be with another receiver. Be idempotent by `messageId` (or
    `dedupId`).

    A push subscription, or a paused one, is 409
    `subscription-state-conflict`. Each replica holds a bounded number
    of receives at once; above it 429 `too-many-receives` with
    `Retry-After`.

    Args:
        id (str):
        body (ReceiveRequest | Unset):  Example: {'maxMessages': 10, 'waitSeconds': 5,
            'invisibleSeconds': 60}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReceivedMessages]
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
    body: ReceiveRequest | Unset = UNSET,
) -> Problem | ReceivedMessages | None:
    """Receive messages of a pull subscription (long poll)

     Answers up to `maxMessages` messages as soon as any is there, or an
    empty list after `waitSeconds`. Each message stays invisible to
    other receives until `invisibleUntil`; settle it before then with
    its `receiptHandle` on any replica: `…/ack` when processed, `…/nack`
    to have it back after a delay, `…/extend` to keep it longer. A
    message not acked in time is received again, with `attempt` + 1;
    one received `maxAttempts` times and not acked goes to the
    dead-letter queue (`…/dead-letters`) instead of a further receive.

    Delivery is at least once: a message acked once is not handed out
    again (within the gateway's dedup window, by the subscription's
    `dedupKey`), but one whose invisibility ran out before its ack may
    already be with another receiver. Be idempotent by `messageId` (or
    `dedupId`).

    A push subscription, or a paused one, is 409
    `subscription-state-conflict`. Each replica holds a bounded number
    of receives at once; above it 429 `too-many-receives` with
    `Retry-After`.

    Args:
        id (str):
        body (ReceiveRequest | Unset):  Example: {'maxMessages': 10, 'waitSeconds': 5,
            'invisibleSeconds': 60}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReceivedMessages
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
    body: ReceiveRequest | Unset = UNSET,
) -> Response[Problem | ReceivedMessages]:
    """Receive messages of a pull subscription (long poll)

     Answers up to `maxMessages` messages as soon as any is there, or an
    empty list after `waitSeconds`. Each message stays invisible to
    other receives until `invisibleUntil`; settle it before then with
    its `receiptHandle` on any replica: `…/ack` when processed, `…/nack`
    to have it back after a delay, `…/extend` to keep it longer. A
    message not acked in time is received again, with `attempt` + 1;
    one received `maxAttempts` times and not acked goes to the
    dead-letter queue (`…/dead-letters`) instead of a further receive.

    Delivery is at least once: a message acked once is not handed out
    again (within the gateway's dedup window, by the subscription's
    `dedupKey`), but one whose invisibility ran out before its ack may
    already be with another receiver. Be idempotent by `messageId` (or
    `dedupId`).

    A push subscription, or a paused one, is 409
    `subscription-state-conflict`. Each replica holds a bounded number
    of receives at once; above it 429 `too-many-receives` with
    `Retry-After`.

    Args:
        id (str):
        body (ReceiveRequest | Unset):  Example: {'maxMessages': 10, 'waitSeconds': 5,
            'invisibleSeconds': 60}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReceivedMessages]
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
    body: ReceiveRequest | Unset = UNSET,
) -> Problem | ReceivedMessages | None:
    """Receive messages of a pull subscription (long poll)

     Answers up to `maxMessages` messages as soon as any is there, or an
    empty list after `waitSeconds`. Each message stays invisible to
    other receives until `invisibleUntil`; settle it before then with
    its `receiptHandle` on any replica: `…/ack` when processed, `…/nack`
    to have it back after a delay, `…/extend` to keep it longer. A
    message not acked in time is received again, with `attempt` + 1;
    one received `maxAttempts` times and not acked goes to the
    dead-letter queue (`…/dead-letters`) instead of a further receive.

    Delivery is at least once: a message acked once is not handed out
    again (within the gateway's dedup window, by the subscription's
    `dedupKey`), but one whose invisibility ran out before its ack may
    already be with another receiver. Be idempotent by `messageId` (or
    `dedupId`).

    A push subscription, or a paused one, is 409
    `subscription-state-conflict`. Each replica holds a bounded number
    of receives at once; above it 429 `too-many-receives` with
    `Retry-After`.

    Args:
        id (str):
        body (ReceiveRequest | Unset):  Example: {'maxMessages': 10, 'waitSeconds': 5,
            'invisibleSeconds': 60}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReceivedMessages
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
