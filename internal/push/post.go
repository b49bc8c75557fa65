package push

import (
	"context"

	"github.com/zeroloss/zeroloss/internal/webhook"
)

// Caller makes signed webhook calls (webhook.Client): it signs req with
// req.Secrets over req.ID, a timestamp and the body (Standard Webhooks)
// and POSTs it within ctx.
type Caller interface {
	Do(ctx context.Context, req webhook.Request) (webhook.Response, error)
}

// Post is the chain's last handler: it sends d.Request (built by Encode)
// within the subscription's timeout and classifies the answer (Classify).
// Once the call is over it calls d.Posted, if set.
func Post(c Caller) Handler {
	return func(ctx context.Context, d *Delivery) Result {
		ctx, cancel := context.WithTimeout(ctx, d.Sub.Timeout)
		defer cancel()
		resp, err := c.Do(ctx, d.Request)
		if d.Posted != nil {
			d.Posted()
		}
		return Classify(resp, err)
	}
}
