package subscription

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zeroloss/zeroloss/internal/webhook"
)

// InvalidError says why a subscription's settings were refused.
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return "subscription: invalid: " + e.Reason }

// ErrInvalidEndpoint wraps why an endpoint URL was refused.
var ErrInvalidEndpoint = errors.New("subscription: invalid endpoint")

// Service manages subscriptions: validation, secrets and the store.
type Service struct {
	store        *Store
	allowPrivate bool
	grace        time.Duration
}

// NewService returns a Service; allowPrivate lets endpoints point at
// loopback, private and link-local addresses.
func NewService(store *Store, allowPrivate bool) *Service {
	return &Service{store: store, allowPrivate: allowPrivate, grace: 24 * time.Hour}
}

// Input creates or changes a subscription; nil fields keep their value (or
// take the default on create).
type Input struct {
	Name        *string
	Topic       *string
	TagFilter   *string
	Endpoint    *string
	Timeout     *time.Duration
	MaxAttempts *int
	Concurrency *int
	Ordered     *bool
	DedupSource *string
	DedupProp   *string
}

func (sv *Service) apply(s *Subscription, in Input) error {
	if in.Name != nil {
		s.Name = *in.Name
	}
	if in.Topic != nil {
		s.Topic = *in.Topic
	}
	if in.TagFilter != nil {
		s.TagFilter = *in.TagFilter
	}
	if in.Endpoint != nil {
		if err := webhook.CheckURL(*in.Endpoint, sv.allowPrivate); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidEndpoint, err)
		}
		s.Endpoint = *in.Endpoint
	}
	if in.Timeout != nil {
		s.Timeout = *in.Timeout
	}
	if in.MaxAttempts != nil {
		s.MaxAttempts = *in.MaxAttempts
	}
	if in.Concurrency != nil {
		s.Concurrency = *in.Concurrency
	}
	if in.Ordered != nil {
		s.Ordered = *in.Ordered
	}
	if in.DedupSource != nil {
		s.DedupSource = *in.DedupSource
		s.DedupProp = ""
		if in.DedupProp != nil {
			s.DedupProp = *in.DedupProp
		}
	}
	if !ValidTagFilter(s.TagFilter) {
		return &InvalidError{"tagFilter must be * or tags joined by ||"}
	}
	if s.DedupSource == DedupProperty && s.DedupProp == "" {
		return &InvalidError{"dedupKey.property is required with source property"}
	}
	return nil
}

// Create stores a new active subscription with a fresh secret.
func (sv *Service) Create(ctx context.Context, tenant string, in Input) (Subscription, error) {
	now := time.Now().UTC()
	s := Subscription{ID: NewID(), Tenant: tenant, TagFilter: "*", Timeout: 10 * time.Second, MaxAttempts: 5,
		Concurrency: 8, DedupSource: DedupMessageID, Secret: webhook.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if in.Endpoint == nil || in.Topic == nil || in.Name == nil {
		return Subscription{}, &InvalidError{"name, topic and endpoint are required"}
	}
	if err := sv.apply(&s, in); err != nil {
		return Subscription{}, err
	}
	return s, sv.store.Put(ctx, s)
}

// Get returns a tenant's subscription.
func (sv *Service) Get(ctx context.Context, tenant, id string) (Subscription, error) {
	return sv.store.Get(ctx, tenant, id)
}

// List returns a page of a tenant's subscriptions.
func (sv *Service) List(ctx context.Context, tenant, cursor string, limit int) ([]Subscription, string, error) {
	return sv.store.List(ctx, tenant, cursor, limit)
}

// Update changes a subscription; replicas pick it up within seconds.
func (sv *Service) Update(ctx context.Context, tenant, id string, in Input) (Subscription, error) {
	return sv.change(ctx, tenant, id, func(s *Subscription) error { return sv.apply(s, in) })
}

// Pause stops delivery on every replica, keeping the position.
func (sv *Service) Pause(ctx context.Context, tenant, id string) (Subscription, error) {
	return sv.change(ctx, tenant, id, func(s *Subscription) error {
		s.Paused, s.PausedReason = true, "api"
		return nil
	})
}

// Resume restarts delivery from where it stopped.
func (sv *Service) Resume(ctx context.Context, tenant, id string) (Subscription, error) {
	return sv.change(ctx, tenant, id, func(s *Subscription) error {
		s.Paused, s.PausedReason = false, ""
		return nil
	})
}

// RotateSecret gives a new secret; the old one also signs for a day.
func (sv *Service) RotateSecret(ctx context.Context, tenant, id string) (Subscription, error) {
	return sv.change(ctx, tenant, id, func(s *Subscription) error {
		s.PrevSecret, s.PrevUntil, s.Secret = s.Secret, time.Now().Add(sv.grace), webhook.NewSecret()
		return nil
	})
}

// Delete removes a subscription; replicas stop delivering within seconds.
func (sv *Service) Delete(ctx context.Context, tenant, id string) error {
	return sv.store.Delete(ctx, tenant, id)
}

func (sv *Service) change(ctx context.Context, tenant, id string, f func(*Subscription) error) (Subscription, error) {
	s, err := sv.store.Get(ctx, tenant, id)
	if err != nil {
		return Subscription{}, err
	}
	if err := f(&s); err != nil {
		return Subscription{}, err
	}
	s.UpdatedAt = time.Now().UTC()
	return s, sv.store.Put(ctx, s)
}
