package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/problem"
)

// Check is one readiness check: nil when the part is usable.
type Check func(ctx context.Context) error

// Health serves /healthz and /readyz.
type Health struct {
	checks   map[string]Check
	timeout  time.Duration
	instance func(*http.Request) string
}

// NewHealth returns health endpoints running checks (by part name) with a
// per-check timeout.
func NewHealth(checks map[string]Check, timeout time.Duration, instance func(*http.Request) string) *Health {
	return &Health{checks: checks, timeout: timeout, instance: instance}
}

// Live answers 200 while the process serves HTTP.
func (h *Health) Live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, healthBody{Status: "ok"})
}

// Ready runs every check concurrently; 503 not-ready names each failing
// part. Check errors are logged by the problem writer's caller, not shown.
func (h *Health) Ready(w http.ResponseWriter, r *http.Request) {
	var failed []problem.FieldError
	for name, err := range h.run(r.Context()) {
		if err != nil {
			reason := readinessReason(name)
			var r interface{ Reason() string }
			if errors.As(err, &r) {
				reason = r.Reason() // written to be shown (e.g. the brokers missing)
			}
			failed = append(failed, problem.FieldError{Field: name, Reason: reason})
		}
	}
	if len(failed) == 0 {
		writeJSON(w, http.StatusOK, healthBody{Status: "ok"})
		return
	}
	sort.Slice(failed, func(i, j int) bool { return failed[i].Field < failed[j].Field })
	pe := problem.New(problem.NotReady, "a dependency is not usable; see errors").WithFields(failed...).WithRetryAfter(1)
	problem.Render(w, pe, h.instance(r))
}

// run runs every check concurrently, each within the timeout, and returns
// each part's error (nil when usable).
func (h *Health) run(ctx context.Context) map[string]error {
	var (
		mu  sync.Mutex
		out = make(map[string]error, len(h.checks))
		wg  sync.WaitGroup
	)
	for name, check := range h.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, h.timeout)
			defer cancel()
			err := check(cctx)
			mu.Lock()
			out[name] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func readinessReason(name string) string {
	switch name {
	case "rocketmq":
		return "producer not started, no name server answered, or no master broker is reachable"
	case "redis":
		return "Redis did not answer PING"
	}
	return "check failed"
}

// Spec serves the contract.
func Spec(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(api.SpecYAML())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// healthBody is the Health schema of api/openapi.yaml (its operations are
// served by hand, so no type is generated for it).
type healthBody struct {
	Status string `json:"status"`
}
