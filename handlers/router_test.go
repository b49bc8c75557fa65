package handlers_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/zeroloss/zeroloss/config"
	"github.com/zeroloss/zeroloss/handlers"
	"github.com/zeroloss/zeroloss/internal/auth"
	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/brokertext"
	"github.com/zeroloss/zeroloss/internal/idempotency"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/send"
	"github.com/zeroloss/zeroloss/internal/telemetry"
)

// recordingSender is a fake of the broker boundary for pure request logic:
// it records what would have been sent and answers with err or a receipt.
type recordingSender struct {
	mu   sync.Mutex
	sent []broker.Message
	err  error
}

func (s *recordingSender) Send(_ context.Context, m broker.Message) (broker.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	if s.err != nil {
		return broker.Receipt{}, s.err
	}
	return broker.Receipt{MessageID: m.ID, Topic: m.Topic, BrokerName: "broker-a", QueueID: 2, QueueOffset: 41}, nil
}

func (s *recordingSender) SendBatch(_ context.Context, topic string, ms []broker.Message) ([]broker.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, ms...)
	if s.err != nil {
		return nil, s.err
	}
	out := make([]broker.Receipt, len(ms))
	for i, m := range ms {
		out[i] = broker.Receipt{MessageID: m.ID, Topic: topic, BrokerName: "broker-a", QueueID: 1, QueueOffset: int64(10 + i)}
	}
	return out, nil
}

func (s *recordingSender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// unusedStore fails any request that reaches idempotency without a key.
type unusedStore struct{ t *testing.T }

func (u unusedStore) Begin(context.Context, string, string, string) (idempotency.Claim, error) {
	u.t.Error("idempotency store used without an Idempotency-Key")
	return idempotency.Claim{}, errors.New("unused")
}
func (u unusedStore) Complete(context.Context, idempotency.Claim, idempotency.Response) error {
	return nil
}
func (u unusedStore) Release(context.Context, idempotency.Claim) error { return nil }

const (
	adminKey  = "admin-secret-key"
	ordersKey = "orders-secret-key"
)

// newService is the send service over s as the router tests use it.
func newService(t testing.TB, s send.Sender) *send.Service {
	return mustService(t, s, send.Config{MaxMessageBytes: 1024, SendBudget: time.Second}, telemetry.Propagator())
}

func mustService(t testing.TB, s send.Sender, cfg send.Config, prop propagation.TextMapPropagator) *send.Service {
	t.Helper()
	svc, err := send.New(s, cfg, prop)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func newRouter(t *testing.T, s *recordingSender) http.Handler {
	t.Helper()
	return newRouterBody(t, s, 4096)
}

// newRouterBody is newRouter with an HTTP body limit of maxBody bytes.
func newRouterBody(t *testing.T, s *recordingSender, maxBody int64) http.Handler {
	t.Helper()
	return newRouterStore(t, s, maxBody, unusedStore{t})
}

// newRouterStore is newRouterBody with idem as the Idempotency-Key store.
func newRouterStore(t testing.TB, s *recordingSender, maxBody int64, idem send.KeyStore) http.Handler {
	t.Helper()
	keys, err := auth.NewKeyring([]config.APIKey{
		{Name: "admin", Key: adminKey, Scopes: []string{"admin"}},
		{Name: "orders", Key: ordersKey, Scopes: []string{"publish:orders-*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := handlers.NewRouter(handlers.RouterDeps{
		Log: log, Keys: keys, Idempotency: idem,
		API:     handlers.API{Messages: handlers.NewMessages(newService(t, s))},
		Health:  handlers.NewHealth(map[string]handlers.Check{}, time.Second, func(*http.Request) string { return "" }),
		Metrics: telemetry.NewMetrics(), TracerProvider: noop.NewTracerProvider(), Propagator: telemetry.Propagator(),
		MaxBodyBytes: maxBody,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type problemBody struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
	Errors   []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

func do(h http.Handler, method, path, key, ctype, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestBadInputsAreRefusedAndNothingIsSent(t *testing.T) {
	const msgs = "/v1/topics/orders-eu/messages"
	const batch = "/v1/topics/orders-eu/message-batches"
	const js = "application/json"
	many := make([]string, 101)
	for i := range many {
		many[i] = `{"body":"x"}`
	}
	tests := []struct {
		name, method, path, key, ctype, body string
		hdr                                  []string
		status                               int
		slug                                 string
		field                                string // an errors[].field that must be present
	}{
		{"malformed json", "POST", msgs, adminKey, js, `{"body":`, nil, 400, "invalid-json", ""},
		{"unknown field", "POST", msgs, adminKey, js, `{"body":"x","colour":"red"}`, nil, 400, "validation", "/"},
		{"wrong type", "POST", msgs, adminKey, js, `{"body":123}`, nil, 400, "validation", "/body"},
		{"missing body", "POST", msgs, adminKey, js, `{"tag":"a"}`, nil, 400, "validation", "/body"},
		{"empty body", "POST", msgs, adminKey, js, `{"body":""}`, nil, 400, "validation", "/body"},
		{"bad encoding enum", "POST", msgs, adminKey, js, `{"body":"x","encoding":"latin1"}`, nil, 400, "validation", "/encoding"},
		{"bad base64", "POST", msgs, adminKey, js, `{"body":"***","encoding":"base64"}`, nil, 400, "validation", "/body"},
		{"tag with bar", "POST", msgs, adminKey, js, `{"body":"x","tag":"a||b"}`, nil, 400, "validation", "/tag"},
		{"key with space", "POST", msgs, adminKey, js, `{"body":"x","keys":["a b"]}`, nil, 400, "validation", "/keys/0"},
		{"reserved property", "POST", msgs, adminKey, js, `{"body":"x","properties":{"UNIQ_KEY":"1"}}`, nil, 400, "validation", "/properties/UNIQ_KEY"},
		{"bad property name", "POST", msgs, adminKey, js, `{"body":"x","properties":{"a b":"1"}}`, nil, 400, "validation", "/properties/a b"},
		{"delay and deliverAt", "POST", msgs, adminKey, js, `{"body":"x","delaySeconds":5,"deliverAt":"2030-01-01T00:00:00Z"}`, nil, 400, "validation", "/deliverAt"},
		{"delay too long", "POST", msgs, adminKey, js, `{"body":"x","delaySeconds":9999999}`, nil, 400, "validation", "/delaySeconds"},
		{"deliverAt too far", "POST", msgs, adminKey, js, `{"body":"x","deliverAt":"2099-01-01T00:00:00Z"}`, nil, 400, "validation", "/deliverAt"},
		{"oversize http body", "POST", msgs, adminKey, js, `{"body":"` + strings.Repeat("x", 5000) + `"}`, nil, 413, "payload-too-large", ""},
		{"oversize message", "POST", msgs, adminKey, js, `{"body":"` + base64.StdEncoding.EncodeToString(make([]byte, 2000)) + `","encoding":"base64"}`, nil, 413, "payload-too-large", ""},
		{"bad topic chars", "POST", "/v1/topics/orders.eu/messages", adminKey, js, `{"body":"x"}`, nil, 400, "invalid-topic", "path:topic"},
		{"topic too long", "POST", "/v1/topics/" + strings.Repeat("t", 128) + "/messages", adminKey, js, `{"body":"x"}`, nil, 400, "invalid-topic", "path:topic"},
		{"reserved topic", "POST", "/v1/topics/TBW102/messages", adminKey, js, `{"body":"x"}`, nil, 400, "invalid-topic", "path:topic"},
		{"system topic", "POST", "/v1/topics/RMQ_SYS_TRANS_HALF_TOPIC/messages", adminKey, js, `{"body":"x"}`, nil, 400, "invalid-topic", "path:topic"},
		{"no api key", "POST", msgs, "", js, `{"body":"x"}`, nil, 401, "unauthorized", ""},
		{"unknown api key", "POST", msgs, "nope-nope-nope", js, `{"body":"x"}`, nil, 401, "unauthorized", ""},
		{"wrong scope", "POST", "/v1/topics/payments/messages", ordersKey, js, `{"body":"x"}`, nil, 403, "forbidden", ""},
		{"not json", "POST", msgs, adminKey, "text/plain", `body=x`, nil, 415, "unsupported-media-type", ""},
		{"idempotency key too long", "POST", msgs, adminKey, js, `{"body":"x"}`, []string{"Idempotency-Key", strings.Repeat("k", 300)}, 400, "validation", "header:Idempotency-Key"},
		{"batch too big", "POST", batch, adminKey, js, `{"messages":[` + strings.Join(many, ",") + `]}`, nil, 400, "validation", "/messages"},
		{"batch empty", "POST", batch, adminKey, js, `{"messages":[]}`, nil, 400, "validation", "/messages"},
		{"batch delay not allowed", "POST", batch, adminKey, js, `{"messages":[{"body":"x","delaySeconds":3}]}`, nil, 400, "validation", "/messages/0"},
		{"batch bad property", "POST", batch, adminKey, js, `{"messages":[{"body":"x"},{"body":"y","properties":{"KEYS":"k"}}]}`, nil, 400, "validation", "/messages/1/properties/KEYS"},
		{"tag forges TRAN_MSG", "POST", msgs, adminKey, js, `{"body":"inject","tag":"x\u0002TRAN_MSG\u0001true"}`, nil, 400, "validation", "/tag"},
		{"key forges DELAY", "POST", msgs, adminKey, js, `{"body":"x","keys":["ok","k\u0002DELAY\u00013"]}`, nil, 400, "validation", "/keys/1"},
		{"sharding key forges UNIQ_KEY", "POST", msgs, adminKey, js, `{"body":"x","shardingKey":"s\u0002UNIQ_KEY\u0001x"}`, nil, 400, "validation", "/shardingKey"},
		{"property value forges TIMER_DELIVER_MS", "POST", msgs, adminKey, js, `{"body":"x","properties":{"p":"v\u0002TIMER_DELIVER_MS\u00011"}}`, nil, 400, "validation", "/properties/p"},
		{"property name forges TRAN_MSG", "POST", msgs, adminKey, js, `{"body":"x","properties":{"p\u0002TRAN_MSG\u0001true\u0002q":"v"}}`, nil, 400, "validation", ""},
		{"reserved TIMER_DELIVER_MS", "POST", msgs, adminKey, js, `{"body":"x","properties":{"TIMER_DELIVER_MS":"1"}}`, nil, 400, "validation", "/properties/TIMER_DELIVER_MS"},
		{"reserved __STARTDELIVERTIME", "POST", msgs, adminKey, js, `{"body":"x","properties":{"__STARTDELIVERTIME":"1"}}`, nil, 400, "validation", "/properties/__STARTDELIVERTIME"},
		{"empty tag", "POST", msgs, adminKey, js, `{"body":"x","tag":""}`, nil, 400, "validation", "/tag"},
		{"empty sharding key", "POST", msgs, adminKey, js, `{"body":"x","shardingKey":""}`, nil, 400, "validation", "/shardingKey"},
		{"newline in tag", "POST", msgs, adminKey, js, `{"body":"x","tag":"a\nb"}`, nil, 400, "validation", "/tag"},
		{"DEL in property value", "POST", msgs, adminKey, js, `{"body":"x","properties":{"p":"a\u007fb"}}`, nil, 400, "validation", "/properties/p"},
		{"batch tag forges TRAN_MSG", "POST", batch, adminKey, js, `{"messages":[{"body":"x"},{"body":"y","tag":"x\u0002TRAN_MSG\u0001true"}]}`, nil, 400, "validation", "/messages/1/tag"},
		{"batch key forges DELAY", "POST", batch, adminKey, js, `{"messages":[{"body":"y","keys":["k\u0002DELAY\u00013"]}]}`, nil, 400, "validation", "/messages/0/keys/0"},
		{"unknown route", "GET", "/v1/nothing", adminKey, "", "", nil, 404, "not-found", ""},
		{"wrong method", "GET", msgs, adminKey, "", "", nil, 405, "method-not-allowed", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recordingSender{}
			rec := do(newRouter(t, s), tc.method, tc.path, tc.key, tc.ctype, tc.body, tc.hdr...)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type = %q", ct)
			}
			var p problemBody
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("problem body: %v: %s", err, rec.Body)
			}
			if want := problem.TypeBase + tc.slug; p.Type != want || p.Status != tc.status || p.Title == "" {
				t.Fatalf("problem = %+v, want type %s", p, want)
			}
			if p.Instance == "" || p.Instance != rec.Header().Get("X-Request-Id") {
				t.Errorf("instance %q does not match X-Request-Id %q", p.Instance, rec.Header().Get("X-Request-Id"))
			}
			if tc.field != "" {
				found := false
				for _, e := range p.Errors {
					if e.Field == tc.field && e.Reason != "" {
						found = true
					}
				}
				if !found {
					t.Errorf("errors %+v lack field %q", p.Errors, tc.field)
				}
			}
			if n := s.count(); n != 0 {
				t.Errorf("%d message(s) were sent for a refused request", n)
			}
		})
	}
}

var hexID = regexp.MustCompile(`^[0-9A-F]{32}$`)

func TestPublishSendsWhatWasAsked(t *testing.T) {
	s := &recordingSender{}
	h := newRouter(t, s)
	body := `{"body":"aGVsbG8=","encoding":"base64","tag":"TagA","keys":["k1","k2"],"properties":{"region":"eu"},"shardingKey":"cust-7","delaySeconds":30}`
	start := time.Now()
	rec := do(h, "POST", "/v1/topics/orders-eu/messages", ordersKey, "application/json", body,
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got struct {
		MessageID   string `json:"messageId"`
		Topic       string `json:"topic"`
		BrokerName  string `json:"brokerName"`
		QueueID     int    `json:"queueId"`
		QueueOffset int64  `json:"queueOffset"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !hexID.MatchString(got.MessageID) || got.Topic != "orders-eu" || got.BrokerName != "broker-a" || got.QueueID != 2 || got.QueueOffset != 41 {
		t.Fatalf("response = %+v", got)
	}
	if s.count() != 1 {
		t.Fatalf("sent %d messages", s.count())
	}
	m := s.sent[0]
	if string(m.Body) != "hello" || m.Tag != "TagA" || strings.Join(m.Keys, ",") != "k1,k2" || m.ShardingKey != "cust-7" || m.ID != got.MessageID {
		t.Errorf("message = %+v", m)
	}
	if m.Properties["region"] != "eu" {
		t.Errorf("properties = %v", m.Properties)
	}
	if tp := m.Properties["traceparent"]; !strings.HasPrefix(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-") {
		t.Errorf("traceparent not propagated into the message: %q", tp)
	}
	if d := m.DeliverAt.Sub(start); d < 29*time.Second || d > 31*time.Second+time.Since(start) {
		t.Errorf("deliverAt is %s after the request, want 30s", d)
	}
}

func TestPublishBatchGivesEachMessageItsID(t *testing.T) {
	s := &recordingSender{}
	rec := do(newRouter(t, s), "POST", "/v1/topics/orders-eu/message-batches", adminKey, "application/json",
		`{"messages":[{"body":"a"},{"body":"b","tag":"T"},{"body":"Yw==","encoding":"base64"}]}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got struct {
		Items []struct {
			MessageID   string `json:"messageId"`
			QueueOffset int64  `json:"queueOffset"`
		} `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 3 || s.count() != 3 {
		t.Fatalf("items = %+v, sent %d", got.Items, s.count())
	}
	seen := map[string]bool{}
	for i, it := range got.Items {
		if !hexID.MatchString(it.MessageID) || seen[it.MessageID] || it.MessageID != s.sent[i].ID {
			t.Errorf("item %d id %q (sent %q)", i, it.MessageID, s.sent[i].ID)
		}
		seen[it.MessageID] = true
	}
	if string(s.sent[2].Body) != "c" {
		t.Errorf("base64 batch body = %q", s.sent[2].Body)
	}
}

func TestSendFailuresMapToProblems(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		slug   string
	}{
		{"unconfirmed", fmt.Errorf("%w: broker answered flush_disk_timeout", broker.ErrUnconfirmed), 503, "send-unconfirmed"},
		{"transport", errors.New("dial tcp 10.1.2.3:10911: connection refused"), 503, "send-unconfirmed"},
		{"topic missing", fmt.Errorf("%w: orders-x", broker.ErrTopicNotFound), 404, "topic-not-found"},
		{"broker refuses the message", fmt.Errorf("%w: send to orders-x: CODE: 13, DESC: 10.1.2.3", broker.ErrRejected), 422, "message-rejected"},
		{"encoder refuses a separator", fmt.Errorf("broker: message 1 to orders-x: %w", brokertext.ErrSeparator), 400, "validation"},
		{"encoder refuses the size", fmt.Errorf("broker: message 1 to orders-x: %w", brokertext.ErrTooLarge), 413, "properties-too-large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recordingSender{err: tc.err}
			rec := do(newRouter(t, s), "POST", "/v1/topics/orders-eu/messages", adminKey, "application/json", `{"body":"x"}`)
			if rec.Code != tc.status {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var p problemBody
			_ = json.Unmarshal(rec.Body.Bytes(), &p)
			if p.Type != problem.TypeBase+tc.slug {
				t.Fatalf("type = %s", p.Type)
			}
			if strings.Contains(rec.Body.String(), "10.1.2.3") || strings.Contains(rec.Body.String(), "flush_disk") {
				t.Errorf("internal error text leaked: %s", rec.Body)
			}
			if tc.status == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}

func TestOperationalEndpointsAreOpen(t *testing.T) {
	h := newRouter(t, &recordingSender{})
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml", "/metrics"} {
		rec := do(h, "GET", path, "", "", "")
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", path, rec.Code)
		}
	}
	if rec := do(h, "GET", "/openapi.yaml", "", "", ""); !strings.Contains(rec.Body.String(), "/v1/topics/{topic}/messages") {
		t.Error("/openapi.yaml does not serve the contract")
	}
}

func TestReadinessNamesTheFailingPart(t *testing.T) {
	h := handlers.NewHealth(map[string]handlers.Check{
		"rocketmq": func(context.Context) error { return errors.New("no broker at 10.0.0.9") },
		"redis":    func(context.Context) error { return nil },
	}, time.Second, func(*http.Request) string { return "req-1" })
	rec := httptest.NewRecorder()
	h.Ready(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", rec.Code)
	}
	var p problemBody
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != problem.NotReady.Type() || len(p.Errors) != 1 || p.Errors[0].Field != "rocketmq" {
		t.Fatalf("problem = %+v", p)
	}
	if strings.Contains(rec.Body.String(), "10.0.0.9") {
		t.Error("internal error text leaked")
	}
}

func TestPropertiesOverTheBrokersLimitAreRefusedBeforeSending(t *testing.T) {
	props := map[string]string{}
	for i := range 10 {
		props[fmt.Sprintf("p%d", i)] = strings.Repeat("x", 4096)
	}
	one, _ := json.Marshal(map[string]any{"body": "x", "properties": props})
	small, _ := json.Marshal(map[string]any{"body": "y", "properties": map[string]string{"p": "v"}})
	tests := []struct {
		name, path, body, field string
	}{
		{"message", "/v1/topics/orders-eu/messages", string(one), "/properties"},
		{"batch member", "/v1/topics/orders-eu/message-batches", `{"messages":[` + string(small) + `,` + string(one) + `]}`, "/messages/1/properties"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recordingSender{}
			rec := do(newRouterBody(t, s, 1<<20), "POST", tc.path, adminKey, "application/json", tc.body)
			var p problemBody
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if rec.Code != http.StatusRequestEntityTooLarge || p.Type != problem.TypeBase+"properties-too-large" ||
				len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
				t.Fatalf("got %d %s", rec.Code, rec.Body)
			}
			if n := s.count(); n != 0 {
				t.Fatalf("%d message(s) were sent", n)
			}
		})
	}
	// Just under the limit, with the gateway's reserve kept, is sent.
	s := &recordingSender{}
	fits := map[string]string{}
	left := brokertext.MaxSize - len("TAGS") - len("T") - 2
	for i := range 7 {
		fits[fmt.Sprintf("p%d", i)] = strings.Repeat("x", 4096)
		left -= 2 + 4096 + 2
	}
	fits["q"] = strings.Repeat("x", left-len("q")-2)
	if n := brokertext.Size(brokertext.Message{Tag: "T", Properties: fits}); n != brokertext.MaxSize {
		t.Fatalf("test message takes %d bytes, want %d", n, brokertext.MaxSize)
	}
	body, _ := json.Marshal(map[string]any{"body": "x", "tag": "T", "properties": fits})
	if rec := do(newRouterBody(t, s, 1<<20), "POST", "/v1/topics/orders-eu/messages", adminKey, "application/json", string(body)); rec.Code != http.StatusCreated || s.count() != 1 {
		t.Fatalf("properties within the limit: %d %s", rec.Code, rec.Body)
	}
}

func TestReadinessNamesUnregisteredBrokers(t *testing.T) {
	h := handlers.NewHealth(map[string]handlers.Check{
		"transactions": func(context.Context) error {
			return fmt.Errorf("wrapped: %w", &broker.NotRegisteredError{Brokers: []string{"broker-b (10.0.0.7:10911)"}})
		},
	}, time.Second, func(*http.Request) string { return "req-1" })
	rec := httptest.NewRecorder()
	h.Ready(rec, httptest.NewRequest("GET", "/readyz", nil))
	var p problemBody
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusServiceUnavailable || len(p.Errors) != 1 || p.Errors[0].Field != "transactions" ||
		!strings.Contains(p.Errors[0].Reason, "broker-b (10.0.0.7:10911)") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
