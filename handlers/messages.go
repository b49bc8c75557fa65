// Package handlers implements the gateway's HTTP endpoints: the operations
// generated from api/openapi.yaml (api.StrictServerInterface) and the
// operational endpoints, and assembles them with their middleware.
package handlers

import (
	"context"
	"fmt"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/auth"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/send"
)

// Publisher sends what a send request asks for (send.Service): a wrong
// request is a *problem.Error (nothing was sent); a failed send wraps the
// broker's errors (mapped by the one error table, sendProblem).
type Publisher interface {
	Publish(ctx context.Context, topic string, req *api.PublishMessageRequest) (api.PublishedMessage, error)
	PublishBatch(ctx context.Context, topic string, req *api.PublishBatchRequest) (api.PublishedBatch, error)
}

// Messages implements the send endpoints: authorization, then the
// Publisher.
type Messages struct {
	svc Publisher
}

// NewMessages returns the send endpoints over svc.
func NewMessages(svc Publisher) *Messages {
	return &Messages{svc: svc}
}

// PublishMessage sends one message (POST /v1/topics/{topic}/messages).
func (h *Messages) PublishMessage(ctx context.Context, req api.PublishMessageRequestObject) (api.PublishMessageResponseObject, error) {
	if err := authorizeTopic(ctx, req.Topic); err != nil {
		return nil, err
	}
	out, err := h.svc.Publish(ctx, req.Topic, req.Body)
	if err != nil {
		return nil, sendProblem(err)
	}
	return api.PublishMessage201JSONResponse{Body: out}, nil
}

// PublishBatch sends a batch (POST /v1/topics/{topic}/message-batches).
func (h *Messages) PublishBatch(ctx context.Context, req api.PublishBatchRequestObject) (api.PublishBatchResponseObject, error) {
	if err := authorizeTopic(ctx, req.Topic); err != nil {
		return nil, err
	}
	out, err := h.svc.PublishBatch(ctx, req.Topic, req.Body)
	if err != nil {
		return nil, sendProblem(err)
	}
	return api.PublishBatch201JSONResponse{Body: out}, nil
}

// checkTopicName refuses RocketMQ's own topic names (the contract's
// pattern already enforced the characters and length).
func checkTopicName(topic, field string) error {
	if send.ReservedTopic(topic) {
		return problem.New(problem.InvalidTopic, fmt.Sprintf("%q is reserved by RocketMQ", topic)).
			WithFields(problem.FieldError{Field: field, Reason: "reserved topic name"})
	}
	return nil
}

func authorizeTopic(ctx context.Context, topic string) error {
	if err := checkTopicName(topic, "path:topic"); err != nil {
		return err
	}
	p, ok := auth.FromContext(ctx)
	if !ok || !p.Allows("publish", topic) {
		return problem.New(problem.Forbidden, fmt.Sprintf("this API key may not publish to %q", topic))
	}
	return nil
}
