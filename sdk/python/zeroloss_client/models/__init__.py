"""Contains all the data models used in inputs/outputs"""

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
from .field_error import FieldError
from .health import Health
from .health_status import HealthStatus
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
from .redrive_request import RedriveRequest
from .replica import Replica
from .subscription import Subscription
from .subscription_input import SubscriptionInput
from .subscription_list import SubscriptionList
from .subscription_patch import SubscriptionPatch
from .subscription_state import SubscriptionState
from .subscription_stats import SubscriptionStats
from .subscription_with_secret import SubscriptionWithSecret
from .transaction import Transaction
from .transaction_decided_by import TransactionDecidedBy
from .transaction_list import TransactionList
from .transaction_state import TransactionState

__all__ = (
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
    "FieldError",
    "Health",
    "HealthStatus",
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
    "RedriveRequest",
    "Replica",
    "Subscription",
    "SubscriptionInput",
    "SubscriptionList",
    "SubscriptionPatch",
    "SubscriptionState",
    "SubscriptionStats",
    "SubscriptionWithSecret",
    "Transaction",
    "TransactionDecidedBy",
    "TransactionList",
    "TransactionState",
)
