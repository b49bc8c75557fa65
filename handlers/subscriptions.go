package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/brokertext"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// SubService manages subscriptions (subscription.Service): what the
// endpoints read, write and switch, each a small interface of its own.
type SubService interface {
	SubReader
	SubWriter
	SubSwitch
}

// SubReader reads a tenant's subscriptions.
type SubReader interface {
	Get(ctx context.Context, tenant, id string) (subscription.Subscription, error)
	List(ctx context.Context, tenant, cursor string, limit int) ([]subscription.Subscription, string, error)
}

// SubWriter creates, changes and deletes subscriptions.
type SubWriter interface {
	Create(ctx context.Context, tenant string, in subscription.Input) (subscription.Subscription, error)
	Update(ctx context.Context, tenant, id string, in subscription.Input) (subscription.Subscription, error)
	Delete(ctx context.Context, tenant, id string) error
}

// SubSwitch pauses and resumes a subscription and rotates its secret.
type SubSwitch interface {
	Pause(ctx context.Context, tenant, id string) (subscription.Subscription, error)
	Resume(ctx context.Context, tenant, id string) (subscription.Subscription, error)
	RotateSecret(ctx context.Context, tenant, id string) (subscription.Subscription, error)
}

// DeadLetterQueues lists, redrives and purges dead letters (push.DeadLetters).
type DeadLetterQueues interface {
	List(ctx context.Context, s subscription.Subscription, limit int) ([]push.DeadLetter, error)
	Redrive(ctx context.Context, s subscription.Subscription, f push.RedriveFilter) (int, error)
	Purge(ctx context.Context, s subscription.Subscription) (int, error)
}

// Subscriptions implements the subscription endpoints.
type Subscriptions struct {
	svc SubService
	dlq DeadLetterQueues
}

// NewSubscriptions returns the subscription endpoints.
func NewSubscriptions(svc SubService, dlq DeadLetterQueues) *Subscriptions {
	return &Subscriptions{svc: svc, dlq: dlq}
}

func requireSubscribe(ctx context.Context, topic string) error {
	p := principal(ctx)
	if topic == "" {
		if !p.HasAction("subscribe") {
			return problem.New(problem.Forbidden, "this API key has no subscribe scope")
		}
		return nil
	}
	if err := checkTopicName(topic, "/topic"); err != nil {
		return err
	}
	if !p.Allows("subscribe", topic) {
		return problem.New(problem.Forbidden, fmt.Sprintf("this API key may not subscribe to %q", topic))
	}
	return nil
}

// CreateSubscription creates a subscription.
func (h *Subscriptions) CreateSubscription(ctx context.Context, req api.CreateSubscriptionRequestObject) (api.CreateSubscriptionResponseObject, error) {
	b := req.Body
	if err := requireSubscribe(ctx, b.Topic); err != nil {
		return nil, err
	}
	if b.TagFilter != nil {
		if vs := brokertext.CheckTagFilter("/tagFilter", *b.TagFilter); len(vs) > 0 {
			return nil, problem.New(problem.Validation, "the tag filter is invalid; see errors").
				WithFields(problem.FieldError{Field: vs[0].Field, Reason: vs[0].Reason})
		}
	}
	in := subscription.Input{Name: &b.Name, Topic: &b.Topic, TagFilter: b.TagFilter, Endpoint: b.Endpoint,
		Timeout: msDuration(b.TimeoutMs), MaxAttempts: b.MaxAttempts, Concurrency: b.Concurrency, Ordered: b.Ordered,
		Retry: retryIn(b.Retry), AfterDeadLetter: (*string)(b.AfterDeadLetter), RateLimit: rateIn(b.RateLimitPerSecond)}
	if b.Mode != nil {
		mode := string(*b.Mode)
		in.Mode = &mode
	}
	if b.DedupKey != nil {
		src := string(b.DedupKey.Source)
		in.DedupSource, in.DedupProp = &src, b.DedupKey.Property
	}
	s, err := h.svc.Create(ctx, principal(ctx).Tenant, in)
	if err != nil {
		return nil, subProblem(err)
	}
	loc := "/v1/subscriptions/" + s.ID
	return api.CreateSubscription201JSONResponse{Body: subWithSecret(s), Headers: api.CreateSubscription201ResponseHeaders{Location: &loc}}, nil
}

// ListSubscriptions lists the tenant's subscriptions on topics the key may
// subscribe to.
func (h *Subscriptions) ListSubscriptions(ctx context.Context, req api.ListSubscriptionsRequestObject) (api.ListSubscriptionsResponseObject, error) {
	if err := requireSubscribe(ctx, ""); err != nil {
		return nil, err
	}
	ss, next, err := h.svc.List(ctx, principal(ctx).Tenant, api.Value(req.Params.Cursor), limitOf(req.Params.Limit))
	if err != nil {
		return nil, subProblem(err)
	}
	out := api.ListSubscriptions200JSONResponse{Items: make([]api.Subscription, 0, len(ss))}
	p := principal(ctx)
	for _, s := range ss {
		if p.Allows("subscribe", s.Topic) {
			out.Items = append(out.Items, subView(s))
		}
	}
	if next != "" {
		out.NextCursor = &next
	}
	return out, nil
}

// get returns the subscription every operation on one acts on; one on a
// topic the key may not subscribe to is not found (see authz.go).
func (h *Subscriptions) get(ctx context.Context, id string) (subscription.Subscription, error) {
	if err := requireSubscribe(ctx, ""); err != nil {
		return subscription.Subscription{}, err
	}
	s, err := h.svc.Get(ctx, principal(ctx).Tenant, id)
	if err != nil {
		return s, subProblem(err)
	}
	if err := visibleTopic(ctx, "subscribe", s.Topic, problem.SubscriptionNotFound, subNotFound); err != nil {
		return subscription.Subscription{}, err
	}
	return s, nil
}

// GetSubscription returns a subscription.
func (h *Subscriptions) GetSubscription(ctx context.Context, req api.GetSubscriptionRequestObject) (api.GetSubscriptionResponseObject, error) {
	s, err := h.get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetSubscription200JSONResponse(subView(s)), nil
}

// UpdateSubscription changes a subscription.
func (h *Subscriptions) UpdateSubscription(ctx context.Context, req api.UpdateSubscriptionRequestObject) (api.UpdateSubscriptionResponseObject, error) {
	if _, err := h.get(ctx, req.Id); err != nil {
		return nil, err
	}
	b := req.Body
	s, err := h.svc.Update(ctx, principal(ctx).Tenant, req.Id, subscription.Input{Name: b.Name, Endpoint: b.Endpoint,
		Timeout: msDuration(b.TimeoutMs), MaxAttempts: b.MaxAttempts, Concurrency: b.Concurrency,
		Retry: retryIn(b.Retry), AfterDeadLetter: (*string)(b.AfterDeadLetter), RateLimit: rateIn(b.RateLimitPerSecond)})
	if err != nil {
		return nil, subProblem(err)
	}
	return api.UpdateSubscription200JSONResponse(subView(s)), nil
}

// DeleteSubscription deletes a subscription.
func (h *Subscriptions) DeleteSubscription(ctx context.Context, req api.DeleteSubscriptionRequestObject) (api.DeleteSubscriptionResponseObject, error) {
	if _, err := h.get(ctx, req.Id); err != nil {
		return nil, err
	}
	if err := h.svc.Delete(ctx, principal(ctx).Tenant, req.Id); err != nil {
		return nil, subProblem(err)
	}
	return api.DeleteSubscription204Response{}, nil
}

// PauseSubscription pauses delivery.
func (h *Subscriptions) PauseSubscription(ctx context.Context, req api.PauseSubscriptionRequestObject) (api.PauseSubscriptionResponseObject, error) {
	if _, err := h.get(ctx, req.Id); err != nil {
		return nil, err
	}
	s, err := h.svc.Pause(ctx, principal(ctx).Tenant, req.Id)
	if err != nil {
		return nil, subProblem(err)
	}
	return api.PauseSubscription200JSONResponse(subView(s)), nil
}

// ResumeSubscription resumes delivery.
func (h *Subscriptions) ResumeSubscription(ctx context.Context, req api.ResumeSubscriptionRequestObject) (api.ResumeSubscriptionResponseObject, error) {
	if _, err := h.get(ctx, req.Id); err != nil {
		return nil, err
	}
	s, err := h.svc.Resume(ctx, principal(ctx).Tenant, req.Id)
	if err != nil {
		return nil, subProblem(err)
	}
	return api.ResumeSubscription200JSONResponse(subView(s)), nil
}

// RotateSubscriptionSecret replaces the signing secret.
func (h *Subscriptions) RotateSubscriptionSecret(ctx context.Context, req api.RotateSubscriptionSecretRequestObject) (api.RotateSubscriptionSecretResponseObject, error) {
	if _, err := h.get(ctx, req.Id); err != nil {
		return nil, err
	}
	s, err := h.svc.RotateSecret(ctx, principal(ctx).Tenant, req.Id)
	if err != nil {
		return nil, subProblem(err)
	}
	return api.RotateSubscriptionSecret200JSONResponse(subWithSecret(s)), nil
}

// ListDeadLetters lists a subscription's dead letters.
func (h *Subscriptions) ListDeadLetters(ctx context.Context, req api.ListDeadLettersRequestObject) (api.ListDeadLettersResponseObject, error) {
	s, err := h.get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	dls, err := h.dlq.List(ctx, s, limitOf(req.Params.Limit))
	if err != nil {
		return nil, subProblem(err)
	}
	out := api.ListDeadLetters200JSONResponse{Items: make([]api.DeadLetter, 0, len(dls))}
	for _, dl := range dls {
		v := api.DeadLetter{MessageId: dl.MessageID, Attempts: dl.Attempts, DeadAt: dl.DeadAt}
		if dl.DedupID != "" {
			v.DedupId = &dl.DedupID
		}
		if dl.Tag != "" {
			v.Tag = &dl.Tag
		}
		if len(dl.Keys) > 0 {
			v.Keys = &dl.Keys
		}
		if dl.LastError != "" {
			v.LastError = &dl.LastError
		}
		v.Body, v.Encoding, v.BodyBytes = bodyPreview(dl.Body())
		out.Items = append(out.Items, v)
	}
	return out, nil
}

// RedriveDeadLetters delivers dead letters again.
func (h *Subscriptions) RedriveDeadLetters(ctx context.Context, req api.RedriveDeadLettersRequestObject) (api.RedriveDeadLettersResponseObject, error) {
	s, err := h.get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	// Push and pull subscriptions alike pop their group's POP retry topic,
	// where redrive sends the copies: a pull subscription's come back on
	// its next receive.
	f, err := redriveFilter(req.Body)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	n, err := h.dlq.Redrive(rctx, s, f)
	var nr *push.NotRedrivableError
	if errors.As(err, &nr) {
		return nil, problem.Wrap(problem.MessageRejected, fmt.Sprintf(
			"%d dead letters were sent back; dead letter %s cannot be sent again (%s): redrive the others by id, or purge",
			n, nr.MessageID, nr.Reason), err)
	}
	if row, ok := problemRowFor(err); ok && row.retry == 0 {
		return nil, toProblem(err, problem.SendUnconfirmed, "")
	}
	if err != nil {
		return nil, problem.Wrap(problem.SendUnconfirmed, fmt.Sprintf("%d dead letters were sent back before an error; retry to send the rest", n), err).WithRetryAfter(1)
	}
	return api.RedriveDeadLetters200JSONResponse{Count: n}, nil
}

// PurgeDeadLetters drops the current dead letters.
func (h *Subscriptions) PurgeDeadLetters(ctx context.Context, req api.PurgeDeadLettersRequestObject) (api.PurgeDeadLettersResponseObject, error) {
	s, err := h.get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	n, err := h.dlq.Purge(ctx, s)
	if err != nil {
		return nil, subProblem(err)
	}
	return api.PurgeDeadLetters200JSONResponse{Count: n}, nil
}

// retryIn converts the contract's retry schedule.
func retryIn(r *api.RetrySchedule) *subscription.Retry {
	if r == nil {
		return nil
	}
	out := &subscription.Retry{}
	if r.DelaysSeconds != nil {
		for _, d := range *r.DelaysSeconds {
			out.Delays = append(out.Delays, time.Duration(d)*time.Second)
		}
	}
	if r.InitialDelaySeconds != nil {
		out.Initial = time.Duration(*r.InitialDelaySeconds) * time.Second
	}
	if r.MaxDelaySeconds != nil {
		out.Max = time.Duration(*r.MaxDelaySeconds) * time.Second
	}
	return out
}

func rateIn(r *api.RateLimit) *float64 {
	if r == nil {
		return nil
	}
	v := float64(*r)
	return &v
}

// retryView is s's retry schedule as the contract shows it: the default
// schedule spelled out when s has none of its own.
func retryView(s subscription.Subscription) api.RetrySchedule {
	var v api.RetrySchedule
	delays := s.RetryDelays
	if len(delays) == 0 && s.RetryInitial > 0 {
		i := int(s.RetryInitial / time.Second)
		v.InitialDelaySeconds = &i
		if s.RetryMax > 0 {
			m := int(s.RetryMax / time.Second)
			v.MaxDelaySeconds = &m
		}
		return v
	}
	if len(delays) == 0 {
		delays = push.DefaultRetryDelays
	}
	ds := make([]int, len(delays))
	for i, d := range delays {
		ds[i] = int(d / time.Second)
	}
	v.DelaysSeconds = &ds
	return v
}

func subView(s subscription.Subscription) api.Subscription {
	after := api.Continue
	if s.AfterDeadLetter == subscription.AfterDeadLetterBlock {
		after = api.Block
	}
	v := api.Subscription{Id: s.ID, Name: s.Name, Mode: api.Push, Topic: s.Topic, TagFilter: s.TagFilter,
		TimeoutMs: int(s.Timeout.Milliseconds()), MaxAttempts: s.MaxAttempts, Retry: retryView(s), Concurrency: s.Concurrency,
		Ordered: s.Ordered, AfterDeadLetter: after,
		DedupKey: api.DedupKey{Source: api.DedupKeySource(s.DedupSource)}, State: api.SubscriptionStateActive,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if s.Pull() {
		v.Mode = api.Pull
	} else {
		v.Endpoint = &s.Endpoint
	}
	if s.RateLimit > 0 {
		r := float32(s.RateLimit)
		v.RateLimitPerSecond = &r
	}
	if s.DedupProp != "" {
		v.DedupKey.Property = &s.DedupProp
	}
	if s.Paused {
		v.State = api.SubscriptionStatePaused
		v.PausedReason = &s.PausedReason
	}
	return v
}

func subWithSecret(s subscription.Subscription) api.SubscriptionWithSecret {
	v := subView(s)
	return api.SubscriptionWithSecret{Id: v.Id, Name: v.Name, Mode: v.Mode, Topic: v.Topic, TagFilter: v.TagFilter, Endpoint: v.Endpoint,
		TimeoutMs: v.TimeoutMs, MaxAttempts: v.MaxAttempts, Retry: v.Retry, Concurrency: v.Concurrency, Ordered: v.Ordered,
		AfterDeadLetter: v.AfterDeadLetter, RateLimitPerSecond: v.RateLimitPerSecond, DedupKey: v.DedupKey,
		State: api.SubscriptionWithSecretState(v.State), PausedReason: v.PausedReason, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		Secret: s.Secret}
}
