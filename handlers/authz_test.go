package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"

	"github.com/zeroloss/zeroloss/config"
	"github.com/zeroloss/zeroloss/handlers"
	"github.com/zeroloss/zeroloss/internal/auth"
	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/idempotency"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/send"
	"github.com/zeroloss/zeroloss/internal/subscription"
	"github.com/zeroloss/zeroloss/internal/telemetry"
	"github.com/zeroloss/zeroloss/internal/testenv"
	"github.com/zeroloss/zeroloss/internal/webhook"
	"github.com/zeroloss/zeroloss/txcallback"
)

// The principals of the authorization matrix. "scoped" may subscribe to
// and run transactions on topic A only; "txall" runs transactions on every
// topic (transact:*), which is what managing producers takes; "elsewhere"
// is an admin of another tenant.
const (
	keyAdmin     = "authz-admin-key"
	keyScoped    = "authz-scoped-key"
	keyTxAll     = "authz-txall-key"
	keyElsewhere = "authz-elsewhere-key"
)

// authzEnv is the real router over the real subscription and transaction
// services, on the shared RocketMQ + Redis stack.
type authzEnv struct {
	h              http.Handler
	tenant         string
	topicA, topicB string
	subs           *subscription.Service
	tx             *txcallback.Service
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newAuthzEnv(t *testing.T) *authzEnv {
	t.Helper()
	st := testenv.Shared(t)
	rdb := st.Redis(t)
	run := randHex(4)
	e := &authzEnv{tenant: "authz-" + run, topicA: st.Topic(t, "authza", 1), topicB: st.Topic(t, "authzb", 1)}
	keys, err := auth.NewKeyring([]config.APIKey{
		{Name: "admin-" + run, Key: keyAdmin, Tenant: e.tenant, Scopes: []string{"admin"}},
		{Name: "scoped-" + run, Key: keyScoped, Tenant: e.tenant, Scopes: []string{"subscribe:" + e.topicA, "transact:" + e.topicA}},
		{Name: "txall-" + run, Key: keyTxAll, Tenant: e.tenant, Scopes: []string{"transact:*"}},
		{Name: "elsewhere-" + run, Key: keyElsewhere, Tenant: "authz-other-" + run, Scopes: []string{"admin"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	metrics := telemetry.NewMetrics()

	var txSvc *txcallback.Service
	txProd, err := broker.NewTxProducer(broker.TxConfig{NameServers: []string{st.NameServer}, Group: "zl-test-authz-" + run,
		InstanceName: "authz-" + run, SendTimeout: 3 * time.Second, Retries: 1},
		func(ctx context.Context, req broker.CheckRequest) { txSvc.Check(ctx, req) })
	if err != nil {
		t.Fatal(err)
	}
	txSvc = txcallback.New(txcallback.NewStore(rdb, time.Hour), txProd, webhook.NewClient(false, "zeroloss/test"),
		txcallback.Config{CheckMax: 5}, log, txcallback.NewMetrics(metrics.Registry()))
	if err := txProd.Start(); err != nil {
		t.Fatal(err)
	}
	prod, err := broker.NewProducer(broker.Config{NameServers: []string{st.NameServer}, Group: "zl-test-authz-p-" + run,
		SendTimeout: 3 * time.Second, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := prod.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		txSvc.Close(ctx)
		_ = txProd.Shutdown()
		_ = prod.Shutdown()
	})
	idem, err := idempotency.NewStore(rdb, idempotency.Config{TTL: time.Hour, Lease: time.Minute, Prefix: "zl:test:authz:" + run + ":idem:"})
	if err != nil {
		t.Fatal(err)
	}
	e.subs = subscription.NewService(subscription.NewStore(rdb, "zl:test:authz:"+run+":"), false)
	e.tx = txSvc
	prop := telemetry.Propagator()
	e.h, err = handlers.NewRouter(handlers.RouterDeps{
		Log: log, Keys: keys, Idempotency: idem,
		API: handlers.API{
			Messages:      handlers.NewMessages(mustService(t, prod, send.Config{MaxMessageBytes: 4096, SendBudget: 10 * time.Second}, prop)),
			Transactions:  handlers.NewTransactions(txSvc, 4096, prop),
			Subscriptions: handlers.NewSubscriptions(e.subs, push.NewDeadLetters(rdb, broker.NewAdmin([]string{st.NameServer}), prod, broker.NewAdmin([]string{st.NameServer}), "DefaultCluster", time.Hour)),
		},
		Health:  handlers.NewHealth(map[string]handlers.Check{}, time.Second, func(*http.Request) string { return "" }),
		Metrics: metrics, TracerProvider: noop.NewTracerProvider(), Propagator: prop, MaxBodyBytes: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *authzEnv) call(t *testing.T, method, path, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	ctype := ""
	if body != "" {
		ctype = "application/json"
	}
	return do(e.h, method, path, key, ctype, body)
}

// subscription creates a subscription of the tenant on topic.
func (e *authzEnv) subscription(t *testing.T, topic string) string {
	t.Helper()
	name, endpoint := "s-"+randHex(3), "https://hooks.invalid/deliver"
	s, err := e.subs.Create(context.Background(), e.tenant, subscription.Input{Name: &name, Topic: &topic, Endpoint: &endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// producer registers a producer of the tenant.
func (e *authzEnv) producer(t *testing.T) string {
	t.Helper()
	name, check := "p-"+randHex(3), "https://hooks.invalid/check"
	p, err := e.tx.CreateProducer(context.Background(), e.tenant, txcallback.ProducerInput{Name: &name, CheckURL: &check})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// transaction begins a transaction of the tenant on topic (a real half
// message); it is rolled back when the test ends if it is still pending.
func (e *authzEnv) transaction(t *testing.T, topic string) string {
	t.Helper()
	ctx := context.Background()
	tx, err := e.tx.Begin(ctx, txcallback.BeginInput{Tenant: e.tenant, ProducerID: e.producer(t), MessageID: strings.ToUpper(randHex(16)),
		Topic: topic, Body: []byte("authz"), CheckAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = e.tx.Decide(ctx, e.tenant, tx.ID, broker.Rollback, func(string) error { return nil })
	})
	return tx.ID
}

// snapshot is what a refused call must leave unchanged: the resource as
// its tenant's admin reads it.
func (e *authzEnv) snapshot(t *testing.T, path string) string {
	t.Helper()
	rec := e.call(t, "GET", path, keyAdmin, "")
	if rec.Code != 200 {
		t.Fatalf("GET %s as admin: %d %s", path, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// TestAuthorizationPerResource runs every subscription, producer and
// transaction operation as an admin, a key whose scope matches the
// resource's topic, a key scoped to another topic, and an admin of another
// tenant. Resources on a topic the key may not use answer 404 like other
// tenants' (their existence is not disclosed); a request that names a
// topic the key may not use answers 403; managing producers takes
// transact:* (a producer's check webhook decides transactions on any
// topic), reading them any transact scope.
func TestAuthorizationPerResource(t *testing.T) {
	if testing.Short() {
		t.Skip("needs RocketMQ and Redis (run without -short)")
	}
	e := newAuthzEnv(t)
	type who struct {
		name, key string
		onB       bool // the resource is on topic B (the scoped key's other topic)
	}
	var (
		admin     = who{"admin", keyAdmin, false}
		matching  = who{"matching scope", keyScoped, false}
		txAll     = who{"transact:*", keyTxAll, false}
		other     = who{"other topic", keyScoped, true}
		narrowTx  = who{"transact on one topic", keyScoped, false}
		elsewhere = who{"other tenant", keyElsewhere, false}
	)
	type op struct {
		name     string
		resource string // "sub", "prd", "tx" or "" (none: create, list)
		method   string
		path     string // %s is the resource id
		body     string // %s is the topic (create, begin) or a producer id (begin)
		mutates  bool
	}
	subOps := []op{
		{"get subscription", "sub", "GET", "/v1/subscriptions/%s", "", false},
		{"update subscription", "sub", "PATCH", "/v1/subscriptions/%s", `{"name":"renamed","endpoint":"https://hooks.invalid/other"}`, true},
		{"pause subscription", "sub", "POST", "/v1/subscriptions/%s/pause", "", true},
		{"resume subscription", "sub", "POST", "/v1/subscriptions/%s/resume", "", true},
		{"rotate subscription secret", "sub", "POST", "/v1/subscriptions/%s/rotate-secret", "", true},
		{"list dead letters", "sub", "GET", "/v1/subscriptions/%s/dead-letters", "", false},
		{"redrive dead letters", "sub", "POST", "/v1/subscriptions/%s/dead-letters/redrive", `{}`, true},
		{"purge dead letters", "sub", "POST", "/v1/subscriptions/%s/dead-letters/purge", "", true},
		{"delete subscription", "sub", "DELETE", "/v1/subscriptions/%s", "", true},
	}
	txOps := []op{
		{"get transaction", "tx", "GET", "/v1/transactions/%s", "", false},
		{"commit transaction", "tx", "POST", "/v1/transactions/%s/commit", "", true},
		{"rollback transaction", "tx", "POST", "/v1/transactions/%s/rollback", "", true},
	}
	prdRead := []op{
		{"get producer", "prd", "GET", "/v1/producers/%s", "", false},
	}
	prdManage := []op{
		{"update producer", "prd", "PATCH", "/v1/producers/%s", `{"checkUrl":"https://attacker.invalid/check"}`, true},
		{"rotate producer secret", "prd", "POST", "/v1/producers/%s/rotate-secret", "", true},
		{"delete producer", "prd", "DELETE", "/v1/producers/%s", "", true},
	}
	okStatus := map[string]int{"DELETE": 204}

	type tc struct {
		op     op
		who    who
		status int
		slug   string // the problem type of a refusal
	}
	var cases []tc
	for _, o := range subOps {
		ok := okStatus[o.method]
		if ok == 0 {
			ok = 200
		}
		cases = append(cases,
			tc{o, admin, ok, ""}, tc{o, matching, ok, ""},
			tc{o, other, 404, "subscription-not-found"}, tc{o, elsewhere, 404, "subscription-not-found"})
	}
	for _, o := range txOps {
		cases = append(cases,
			tc{o, admin, 200, ""}, tc{o, matching, 200, ""},
			tc{o, other, 404, "transaction-not-found"}, tc{o, elsewhere, 404, "transaction-not-found"})
	}
	for _, o := range prdRead {
		cases = append(cases,
			tc{o, admin, 200, ""}, tc{o, txAll, 200, ""}, tc{o, narrowTx, 200, ""},
			tc{o, elsewhere, 404, "producer-not-found"})
	}
	for _, o := range prdManage {
		ok := okStatus[o.method]
		if ok == 0 {
			ok = 200
		}
		cases = append(cases,
			tc{o, admin, ok, ""}, tc{o, txAll, ok, ""}, tc{o, narrowTx, 403, "forbidden"},
			tc{o, elsewhere, 404, "producer-not-found"})
	}

	for _, c := range cases {
		t.Run(c.op.name+"/"+c.who.name, func(t *testing.T) {
			topic := e.topicA
			if c.who.onB {
				topic = e.topicB
			}
			var id, self string
			switch c.op.resource {
			case "sub":
				id = e.subscription(t, topic)
				self = "/v1/subscriptions/" + id
			case "tx":
				id = e.transaction(t, topic)
				self = "/v1/transactions/" + id
			case "prd":
				id = e.producer(t)
				self = "/v1/producers/" + id
			}
			before := e.snapshot(t, self)
			path := fmt.Sprintf(c.op.path, id)
			rec := e.call(t, c.op.method, path, c.who.key, c.op.body)
			if rec.Code != c.status {
				t.Fatalf("%s %s = %d, want %d: %s", c.op.method, path, rec.Code, c.status, rec.Body)
			}
			if c.slug != "" {
				var p problemBody
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Type != problem.TypeBase+c.slug {
					t.Fatalf("problem %s, want type %s", rec.Body, c.slug)
				}
				// Refused means untouched.
				if after := e.snapshot(t, self); after != before {
					t.Fatalf("a refused %s changed the resource:\nbefore %s\nafter  %s", c.op.name, before, after)
				}
				return
			}
			if c.op.mutates {
				after := e.call(t, "GET", self, keyAdmin, "")
				if c.op.method == "DELETE" {
					if after.Code != 404 {
						t.Fatalf("after delete: GET %d", after.Code)
					}
				} else if after.Body.String() == before && c.op.name != "redrive dead letters" && c.op.name != "purge dead letters" && c.op.name != "resume subscription" {
					t.Fatalf("%s did not change the resource: %s", c.op.name, after.Body)
				}
			}
		})
	}

	// Creating names a topic: a key may create only on its topics.
	t.Run("create subscription", func(t *testing.T) {
		body := func(topic string) string {
			return `{"name":"n","topic":"` + topic + `","endpoint":"https://hooks.invalid/deliver"}`
		}
		for _, c := range []struct {
			who    who
			status int
		}{{admin, 201}, {matching, 201}, {other, 403}, {elsewhere, 201}} {
			topic := e.topicA
			if c.who.onB {
				topic = e.topicB
			}
			rec := e.call(t, "POST", "/v1/subscriptions", c.who.key, body(topic))
			if rec.Code != c.status {
				t.Fatalf("%s: create on %s = %d, want %d: %s", c.who.name, topic, rec.Code, c.status, rec.Body)
			}
			if c.who == elsewhere { // created in its own tenant, invisible to this one
				var s struct{ ID string }
				_ = json.Unmarshal(rec.Body.Bytes(), &s)
				if got := e.call(t, "GET", "/v1/subscriptions/"+s.ID, keyAdmin, ""); got.Code != 404 {
					t.Fatalf("another tenant's subscription: GET %d", got.Code)
				}
			}
		}
	})
	t.Run("begin transaction", func(t *testing.T) {
		prd := e.producer(t)
		body := func(topic string) string {
			return `{"producer":"` + prd + `","topic":"` + topic + `","body":"x","checkAfterSeconds":60}`
		}
		for _, c := range []struct {
			who    who
			status int
		}{{admin, 201}, {matching, 201}, {other, 403}, {elsewhere, 404}} { // elsewhere: no such producer in its tenant
			topic := e.topicA
			if c.who.onB {
				topic = e.topicB
			}
			rec := e.call(t, "POST", "/v1/transactions", c.who.key, body(topic))
			if rec.Code != c.status {
				t.Fatalf("%s: begin on %s = %d, want %d: %s", c.who.name, topic, rec.Code, c.status, rec.Body)
			}
			if rec.Code == 201 {
				var tx struct{ TransactionId string }
				_ = json.Unmarshal(rec.Body.Bytes(), &tx)
				if r := e.call(t, "POST", "/v1/transactions/"+tx.TransactionId+"/rollback", keyAdmin, ""); r.Code != 200 {
					t.Fatalf("rollback: %d %s", r.Code, r.Body)
				}
			}
		}
	})
	t.Run("create producer", func(t *testing.T) {
		body := `{"name":"p","checkUrl":"https://hooks.invalid/check"}`
		for _, c := range []struct {
			who    who
			status int
		}{{admin, 201}, {txAll, 201}, {narrowTx, 403}, {elsewhere, 201}} {
			if rec := e.call(t, "POST", "/v1/producers", c.who.key, body); rec.Code != c.status {
				t.Fatalf("%s: create producer = %d, want %d: %s", c.who.name, rec.Code, c.status, rec.Body)
			}
		}
	})

	// Lists show what the key may see: its topics, its tenant.
	t.Run("list subscriptions", func(t *testing.T) {
		a, b := e.subscription(t, e.topicA), e.subscription(t, e.topicB)
		for _, c := range []struct {
			key       string
			want, not []string
		}{{keyAdmin, []string{a, b}, nil}, {keyScoped, []string{a}, []string{b}}, {keyElsewhere, nil, []string{a, b}}} {
			ids := listIDs(t, e, "/v1/subscriptions", c.key, "id")
			checkIDs(t, ids, c.want, c.not)
		}
	})
	t.Run("list transactions", func(t *testing.T) {
		a, b := e.transaction(t, e.topicA), e.transaction(t, e.topicB)
		for _, c := range []struct {
			key       string
			want, not []string
		}{{keyAdmin, []string{a, b}, nil}, {keyScoped, []string{a}, []string{b}}, {keyTxAll, []string{a, b}, nil}, {keyElsewhere, nil, []string{a, b}}} {
			ids := listIDs(t, e, "/v1/transactions", c.key, "transactionId")
			checkIDs(t, ids, c.want, c.not)
		}
	})
	t.Run("list producers", func(t *testing.T) {
		p := e.producer(t)
		for _, c := range []struct {
			key       string
			want, not []string
		}{{keyAdmin, []string{p}, nil}, {keyTxAll, []string{p}, nil}, {keyScoped, []string{p}, nil}, {keyElsewhere, nil, []string{p}}} {
			ids := listIDs(t, e, "/v1/producers", c.key, "id")
			checkIDs(t, ids, c.want, c.not)
		}
	})
}

// listIDs reads every page of a list as key and returns the items' ids.
func listIDs(t *testing.T, e *authzEnv, path, key, idField string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 100 {
		p := path + "?limit=500"
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		rec := e.call(t, "GET", p, key, "")
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", p, rec.Code, rec.Body)
		}
		var page struct {
			Items      []map[string]any
			NextCursor string
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			ids = append(ids, fmt.Sprint(it[idField]))
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
	t.Fatalf("GET %s: more than 100 pages", path)
	return nil
}

func checkIDs(t *testing.T, ids, want, not []string) {
	t.Helper()
	for _, id := range want {
		if !slices.Contains(ids, id) {
			t.Errorf("list %v lacks %s", ids, id)
		}
	}
	for _, id := range not {
		if slices.Contains(ids, id) {
			t.Errorf("list %v shows %s", ids, id)
		}
	}
}
