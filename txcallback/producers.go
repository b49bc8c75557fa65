package txcallback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"
)

// Producer is a client-registered owner of transactions and its check
// webhook. The secrets sign check calls; during a rotation the previous one
// also signs until PrevUntil.
type Producer struct {
	ID         string        `json:"id"`
	Tenant     string        `json:"tenant"`
	Name       string        `json:"name"`
	CheckURL   string        `json:"checkUrl"`
	Timeout    time.Duration `json:"timeout"`
	Secret     string        `json:"secret"`
	PrevSecret string        `json:"prevSecret,omitempty"`
	PrevUntil  time.Time     `json:"prevUntil,omitempty"`
	CreatedAt  time.Time     `json:"createdAt"`
	UpdatedAt  time.Time     `json:"updatedAt"`
}

// Secrets returns the secrets that sign a call made at now.
func (p Producer) Secrets(now time.Time) []string {
	if p.PrevSecret != "" && now.Before(p.PrevUntil) {
		return []string{p.Secret, p.PrevSecret}
	}
	return []string{p.Secret}
}

// PutProducer creates or replaces a producer.
func (s *Store) PutProducer(ctx context.Context, p Producer) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("txcallback: encode producer: %w", err)
	}
	if err := s.rdb.HSet(ctx, producersKey(p.Tenant), p.ID, b).Err(); err != nil {
		return fmt.Errorf("txcallback: store producer: %w", err)
	}
	return nil
}

// GetProducer reads a tenant's producer.
func (s *Store) GetProducer(ctx context.Context, tenant, id string) (Producer, error) {
	b, err := s.rdb.HGet(ctx, producersKey(tenant), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return Producer{}, ErrNotFound
	}
	if err != nil {
		return Producer{}, fmt.Errorf("txcallback: get producer: %w", err)
	}
	var p Producer
	if err := json.Unmarshal(b, &p); err != nil {
		return Producer{}, fmt.Errorf("txcallback: decode producer %s: %w", id, err)
	}
	return p, nil
}

// DeleteProducer removes a producer.
func (s *Store) DeleteProducer(ctx context.Context, tenant, id string) error {
	n, err := s.rdb.HDel(ctx, producersKey(tenant), id).Result()
	if err != nil {
		return fmt.Errorf("txcallback: delete producer: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ListProducers returns a tenant's producers ordered by id (creation time),
// after the id cursor, and the next cursor.
func (s *Store) ListProducers(ctx context.Context, tenant, cursor string, limit int) ([]Producer, string, error) {
	m, err := s.rdb.HGetAll(ctx, producersKey(tenant)).Result()
	if err != nil {
		return nil, "", fmt.Errorf("txcallback: list producers: %w", err)
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		if id > cursor {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	next := ""
	if len(ids) > limit {
		ids = ids[:limit]
		next = ids[limit-1]
	}
	out := make([]Producer, 0, len(ids))
	for _, id := range ids {
		var p Producer
		if err := json.Unmarshal([]byte(m[id]), &p); err != nil {
			return nil, "", fmt.Errorf("txcallback: decode producer %s: %w", id, err)
		}
		out = append(out, p)
	}
	return out, next, nil
}
