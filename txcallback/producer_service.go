package txcallback

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zeroloss/zeroloss/internal/webhook"
)

// ErrInvalidURL wraps why a check URL was refused.
var ErrInvalidURL = errors.New("txcallback: invalid check URL")

// ProducerInput creates or changes a producer; nil fields stay as they are.
type ProducerInput struct {
	Name     *string
	CheckURL *string
	Timeout  *time.Duration
}

func (s *Service) checkURL(u string) error {
	if err := webhook.CheckURL(u, s.cfg.AllowPrivateWebhooks); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	return nil
}

// CreateProducer registers a producer with a fresh signing secret.
func (s *Service) CreateProducer(ctx context.Context, tenant string, in ProducerInput) (Producer, error) {
	if in.Name == nil || in.CheckURL == nil {
		return Producer{}, fmt.Errorf("%w: name and check URL are required", ErrInvalidURL)
	}
	if err := s.checkURL(*in.CheckURL); err != nil {
		return Producer{}, err
	}
	now := time.Now().UTC()
	p := Producer{ID: newID(producerPrefix), Tenant: tenant, Name: *in.Name, CheckURL: *in.CheckURL,
		Timeout: 5 * time.Second, Secret: webhook.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if in.Timeout != nil {
		p.Timeout = *in.Timeout
	}
	return p, s.store.PutProducer(ctx, p)
}

// GetProducer returns a tenant's producer.
func (s *Service) GetProducer(ctx context.Context, tenant, id string) (Producer, error) {
	p, err := s.store.GetProducer(ctx, tenant, id)
	if errors.Is(err, ErrNotFound) {
		return Producer{}, ErrProducerNotFound
	}
	return p, err
}

// UpdateProducer changes the given fields.
func (s *Service) UpdateProducer(ctx context.Context, tenant, id string, in ProducerInput) (Producer, error) {
	p, err := s.GetProducer(ctx, tenant, id)
	if err != nil {
		return Producer{}, err
	}
	if in.CheckURL != nil {
		if err := s.checkURL(*in.CheckURL); err != nil {
			return Producer{}, err
		}
		p.CheckURL = *in.CheckURL
	}
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Timeout != nil {
		p.Timeout = *in.Timeout
	}
	p.UpdatedAt = time.Now().UTC()
	return p, s.store.PutProducer(ctx, p)
}

// RotateSecret gives the producer a new secret; the old one keeps signing
// for the grace period.
func (s *Service) RotateSecret(ctx context.Context, tenant, id string) (Producer, error) {
	p, err := s.GetProducer(ctx, tenant, id)
	if err != nil {
		return Producer{}, err
	}
	now := time.Now().UTC()
	p.PrevSecret, p.PrevUntil, p.Secret, p.UpdatedAt = p.Secret, now.Add(s.cfg.SecretGrace), webhook.NewSecret(), now
	return p, s.store.PutProducer(ctx, p)
}

// DeleteProducer removes a producer.
func (s *Service) DeleteProducer(ctx context.Context, tenant, id string) error {
	s.producers.Delete(tenant + "\x00" + id)
	if err := s.store.DeleteProducer(ctx, tenant, id); errors.Is(err, ErrNotFound) {
		return ErrProducerNotFound
	} else if err != nil {
		return err
	}
	return nil
}

// ListProducers returns a page of a tenant's producers.
func (s *Service) ListProducers(ctx context.Context, tenant, cursor string, limit int) ([]Producer, string, error) {
	return s.store.ListProducers(ctx, tenant, cursor, limit)
}
