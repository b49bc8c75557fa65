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

// ErrModeConflict is a change the subscription's mode does not allow (an
// endpoint for a pull subscription): the request is valid, the resource's
// state refuses it.
var ErrModeConflict = errors.New("subscription: not possible in this mode")

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
	Mode        *string
	Topic       *string
	TagFilter   *string
	Endpoint    *string
	Timeout     *time.Duration
	MaxAttempts *int
	Concurrency *int
	Ordered     *bool
	DedupSource *string
	DedupProp   *string
	// Retry replaces the whole retry schedule.
	Retry           *Retry
	AfterDeadLetter *string
	RateLimit       *float64
}

// Retry is a retry schedule: explicit Delays, or exponential from Initial
// up to Max. The zero value is the default schedule.
type Retry struct {
	Delays       []time.Duration
	Initial, Max time.Duration
}

func (sv *Service) apply(s *Subscription, in Input) error {
	if in.Name != nil {
		s.Name = *in.Name
	}
	if in.Mode != nil {
		s.Mode = *in.Mode
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
	if in.Retry != nil {
		// Every combination the contract allows is accepted: a list with
		// maxDelaySeconds is capped by it; maxDelaySeconds alone is
		// exponential from 1 s; an initial wait above the maximum is
		// capped by it (Schedule).
		r := *in.Retry
		if len(r.Delays) > 0 && r.Max > 0 {
			capped := make([]time.Duration, len(r.Delays))
			for i, d := range r.Delays {
				capped[i] = min(d, r.Max)
			}
			r.Delays, r.Max = capped, 0
		}
		if len(r.Delays) == 0 && r.Initial <= 0 && r.Max > 0 {
			r.Initial = time.Second
		}
		s.RetryDelays, s.RetryInitial, s.RetryMax = r.Delays, r.Initial, r.Max
	}
	if in.AfterDeadLetter != nil {
		s.AfterDeadLetter = *in.AfterDeadLetter
	}
	if in.RateLimit != nil {
		s.RateLimit = *in.RateLimit
	}
	if in.DedupSource != nil {
		s.DedupSource = *in.DedupSource
		s.DedupProp = ""
		if in.DedupProp != nil {
			s.DedupProp = *in.DedupProp
		}
	}
	if s.Mode == "" {
		s.Mode = ModePush // stored before modes existed
	}
	switch {
	case s.Mode != ModePush && s.Mode != ModePull:
		return &InvalidError{"mode must be push or pull"}
	case s.Pull() && s.Endpoint != "":
		return &InvalidError{"a pull subscription has no endpoint"}
	case !s.Pull() && s.Endpoint == "":
		return &InvalidError{"a push subscription needs an endpoint"}
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
	s := Subscription{ID: NewID(), Tenant: tenant, Mode: ModePush, TagFilter: "*", Timeout: 10 * time.Second, MaxAttempts: 8,
		Concurrency: 8, DedupSource: DedupMessageID, Secret: webhook.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if in.Topic == nil || in.Name == nil {
		return Subscription{}, &InvalidError{"name and topic are required"}
	}
	if err := sv.apply(&s, in); err != nil {
		return Subscription{}, err
	}
	return sv.store.Create(ctx, s)
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
	return sv.change(ctx, tenant, id, func(s *Subscription) error {
		if s.Pull() && in.Mode == nil && in.Endpoint != nil {
			return fmt.Errorf("%w: a pull subscription has no endpoint", ErrModeConflict)
		}
		return sv.apply(s, in)
	})
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

// change applies f to the tenant's subscription in one compare-and-set:
// a concurrent change is never lost, a deleted subscription stays deleted.
func (sv *Service) change(ctx context.Context, tenant, id string, f func(*Subscription) error) (Subscription, error) {
	return sv.store.Change(ctx, id, func(s Subscription) bool { return s.Tenant == tenant }, func(s *Subscription) error {
		if err := f(s); err != nil {
			return err
		}
		s.UpdatedAt = time.Now().UTC()
		return nil
	})
}
