"""Contains all the data models used in inputs/outputs"""

from .ack_request import AckRequest
from .after_dead_letter import AfterDeadLetter
from .batch_message import BatchMessage
from .begin_transaction_request import BeginTransactionRequest
from .check_request import CheckRequest
from .check_request_properties import CheckRequestProperties
from .check_response import CheckResponse
from .check_response_decision import CheckResponseDecision
from .dead_letter import DeadLetter
from .dead_letter_count import DeadLetterCount
from .dead_letter_list import DeadLetterList
from .dedup_key import DedupKey
from .dedup_key_source import DedupKeySource
from .encoding import Encoding
from .extend_request import ExtendRequest
from .field_error import FieldError
from .health import Health
from .health_status import HealthStatus
from .nack_request import NackRequest
from .ops_summary import OpsSummary
from .problem import Problem
from .producer import Producer
from .producer_input import ProducerInput
from .producer_list import ProducerList
from .producer_patch import ProducerPatch
from .producer_with_secret import ProducerWithSecret
from .properties import Properties
from .publish_batch_request import PublishBatchRequest
from .publish_message_request import PublishMessageRequest
from .published_batch import PublishedBatch
from .published_batch_item import PublishedBatchItem
from .published_message import PublishedMessage
from .rate_point import RatePoint
from .readiness import Readiness
from .receipt_result import ReceiptResult
from .receipt_results import ReceiptResults
from .receive_request import ReceiveRequest
from .received_message import ReceivedMessage
from .received_message_properties import ReceivedMessageProperties
from .received_messages import ReceivedMessages
from .redrive_request import RedriveRequest
from .replica import Replica
from .retry_schedule import RetrySchedule
from .subscription import Subscription
from .subscription_input import SubscriptionInput
from .subscription_list import SubscriptionList
from .subscription_mode import SubscriptionMode
from .subscription_patch import SubscriptionPatch
from .subscription_state import SubscriptionState
from .subscription_stats import SubscriptionStats
from .subscription_with_secret import SubscriptionWithSecret
from .transaction import Transaction
from .transaction_decided_by import TransactionDecidedBy
from .transaction_list import TransactionList
from .transaction_state import TransactionState

__all__ = (
    "AckRequest",
    "AfterDeadLetter",
    "BatchMessage",
    "BeginTransactionRequest",
    "CheckRequest",
    "CheckRequestProperties",
    "CheckResponse",
    "CheckResponseDecision",
    "DeadLetter",
    "DeadLetterCount",
    "DeadLetterList",
    "DedupKey",
    "DedupKeySource",
    "Encoding",
    "ExtendRequest",
    "FieldError",
    "Health",
    "HealthStatus",
    "NackRequest",
    "OpsSummary",
    "Problem",
    "Producer",
    "ProducerInput",
    "ProducerList",
    "ProducerPatch",
    "ProducerWithSecret",
    "Properties",
    "PublishBatchRequest",
    "PublishMessageRequest",
    "PublishedBatch",
    "PublishedBatchItem",
    "PublishedMessage",
    "RatePoint",
    "Readiness",
    "ReceiptResult",
    "ReceiptResults",
    "ReceiveRequest",
    "ReceivedMessage",
    "ReceivedMessageProperties",
    "ReceivedMessages",
    "RedriveRequest",
    "Replica",
    "RetrySchedule",
    "Subscription",
    "SubscriptionInput",
    "SubscriptionList",
    "SubscriptionMode",
    "SubscriptionPatch",
    "SubscriptionState",
    "SubscriptionStats",
    "SubscriptionWithSecret",
    "Transaction",
    "TransactionDecidedBy",
    "TransactionList",
    "TransactionState",
)
