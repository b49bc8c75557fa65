package handlers_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/problem"
)

// TestContractRefusals: requests api/openapi.yaml excludes are refused with
// 400 problems that name the field, before any handler sends anything.
func TestContractRefusals(t *testing.T) {
	const msgs = "/v1/topics/orders-eu/messages"
	const js = "application/json"
	tests := []struct {
		name, path, body string
		slug, field      string
		reason           string // a substring of that field's reason
	}{
		{"tag forging a property", msgs, `{"body":"x","tag":"x\u0002TRAN_MSG\u0001true"}`, "validation", "/tag", ""},
		{"tag with a space", msgs, `{"body":"x","tag":"a b"}`, "validation", "/tag", ""},
		{"key with a control character", msgs, `{"body":"x","keys":["k\u0001"]}`, "validation", "/keys/0", ""},
		{"sharding key with a control character", msgs, `{"body":"x","shardingKey":"s\u007f"}`, "validation", "/shardingKey", ""},
		{"property value with a separator", msgs, `{"body":"x","properties":{"a":"v\u0002UNIQ_KEY\u00011"}}`, "validation", "/properties/a", ""},
		{"delay and deliverAt", msgs, `{"body":"x","delaySeconds":5,"deliverAt":"2030-01-01T00:00:00Z"}`, "validation", "/deliverAt", "not both"},
		{"bad base64", msgs, `{"body":"***","encoding":"base64"}`, "validation", "/body", "base64"},
		{"base64 without padding", msgs, `{"body":"aGk","encoding":"base64"}`, "validation", "/body", "base64"},
		{"batch bad base64", "/v1/topics/orders-eu/message-batches", `{"messages":[{"body":"x"},{"body":"a","encoding":"base64"}]}`, "validation", "/messages/1/body", "base64"},
		{"transaction bad base64", "/v1/transactions", `{"producer":"prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H","topic":"orders","body":"%%","encoding":"base64"}`, "validation", "/body", "base64"},
		{"transaction reserved topic", "/v1/transactions", `{"producer":"prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H","topic":"TBW102","body":"x"}`, "invalid-topic", "/topic", "reserved"},
		{"subscription system topic", "/v1/subscriptions", `{"name":"n","topic":"rmq_sys_x","endpoint":"https://h.example/x"}`, "invalid-topic", "/topic", "reserved"},
		{"endpoint not http", "/v1/subscriptions", `{"name":"n","topic":"orders","endpoint":"ftp://h.example/x"}`, "invalid-webhook-url", "/endpoint", ""},
		{"endpoint with credentials", "/v1/subscriptions", `{"name":"n","topic":"orders","endpoint":"https://u:p@h.example/x"}`, "invalid-webhook-url", "/endpoint", ""},
		{"endpoint with a fragment", "/v1/subscriptions", `{"name":"n","topic":"orders","endpoint":"https://h.example/x#f"}`, "invalid-webhook-url", "/endpoint", ""},
		{"endpoint with a bad escape", "/v1/subscriptions", `{"name":"n","topic":"orders","endpoint":"https://h.example/%zz"}`, "invalid-webhook-url", "/endpoint", ""},
		{"endpoint with a bad IPv6 literal", "/v1/subscriptions", `{"name":"n","topic":"orders","endpoint":"http://[::1::2]/"}`, "invalid-webhook-url", "/endpoint", ""},
		{"tag filter with one bar", "/v1/subscriptions", `{"name":"n","topic":"orders","endpoint":"https://h.example/x","tagFilter":"a|b"}`, "validation", "/tagFilter", ""},
		{"tag filter empty", "/v1/subscriptions", `{"name":"n","topic":"orders","endpoint":"https://h.example/x","tagFilter":""}`, "validation", "/tagFilter", ""},
		{"dedup by property without one", "/v1/subscriptions", `{"name":"n","topic":"orders","endpoint":"https://h.example/x","dedupKey":{"source":"property"}}`, "validation", "/dedupKey/property", "required"},
		{"check URL relative", "/v1/producers", `{"name":"n","checkUrl":"/check"}`, "invalid-webhook-url", "/checkUrl", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recordingSender{}
			rec := do(newRouter(t, s), http.MethodPost, tc.path, adminKey, js, tc.body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", rec.Code, rec.Body)
			}
			var p problemBody
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("problem body: %v: %s", err, rec.Body)
			}
			if want := problem.TypeBase + tc.slug; p.Type != want {
				t.Fatalf("type = %s, want %s", p.Type, want)
			}
			found := false
			for _, e := range p.Errors {
				if e.Field == tc.field && e.Reason != "" && strings.Contains(e.Reason, tc.reason) {
					found = true
				}
			}
			if !found {
				t.Errorf("errors %+v lack field %q with a reason containing %q", p.Errors, tc.field, tc.reason)
			}
			if n := s.count(); n != 0 {
				t.Errorf("%d message(s) were sent for a refused request", n)
			}
		})
	}
}

// TestContractAccepts: values at the edges of what the contract allows are
// sent.
func TestContractAccepts(t *testing.T) {
	tests := []struct{ name, body string }{
		{"non-ASCII tag and key", `{"body":"x","tag":"über\u00a0tag","keys":["ключ"]}`},
		{"sharding key with spaces", `{"body":"x","shardingKey":"customer 7"}`},
		{"property value with spaces and unicode", `{"body":"x","properties":{"a.b-c_D9":"v w ✓","empty":""}}`},
		{"padded base64", `{"body":"aGk=","encoding":"base64"}`},
		{"utf8 body that is not base64", `{"body":"***","encoding":"utf8"}`},
		{"delay alone", `{"body":"x","delaySeconds":5}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recordingSender{}
			rec := do(newRouter(t, s), http.MethodPost, "/v1/topics/orders-eu/messages", adminKey, "application/json", tc.body)
			if rec.Code != http.StatusCreated {
				t.Fatalf("status = %d, want 201; body %s", rec.Code, rec.Body)
			}
			if n := s.count(); n != 1 {
				t.Errorf("%d message(s) sent, want 1", n)
			}
		})
	}
}

// TestPropertyNamesAgreeWithContract: the handlers refuse exactly the
// property names the contract's patternProperties exclude (kin-openapi's
// OpenAPI 3.0 validator ignores that keyword, so the handlers enforce it).
func TestPropertyNamesAgreeWithContract(t *testing.T) {
	doc, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	props := doc.Components.Schemas["Properties"].Value
	if len(props.PatternProperties) == 0 {
		t.Fatal("the Properties schema has no patternProperties")
	}
	var refused []*regexp.Regexp
	candidates := []string{"region", "a", "Order.Id", "x-1", "keys", "Keys", "KEYS_2", "tag", "__", "_x", "TIMER", "TIMER_X",
		"INNER_NUM", "POP_CK", "1ST_POP_TIME", "ZL_TX", "zl-x", "zl_x", "Traceparent", strings.Repeat("n", 64),
		strings.Repeat("n", 65), "", "a b", "a\u0001", "ü", "a/b"}
	for pattern, s := range props.PatternProperties {
		if s.Value == nil || s.Value.Not == nil {
			t.Fatalf("patternProperties %q does not refuse its names", pattern)
		}
		refused = append(refused, regexp.MustCompile(pattern))
		// The reserved names are spelled out as one alternation.
		if inner, ok := strings.CutPrefix(pattern, "^("); ok && strings.HasSuffix(inner, ")$") {
			candidates = append(candidates, strings.Split(strings.TrimSuffix(inner, ")$"), "|")...)
		}
	}
	h := newRouter(t, &recordingSender{})
	for _, name := range candidates {
		t.Run(name, func(t *testing.T) {
			want := true
			for _, re := range refused {
				if re.MatchString(name) {
					want = false
				}
			}
			body := `{"body":"x","properties":{"` + name + `":"v"}}`
			rec := do(h, http.MethodPost, "/v1/topics/orders-eu/messages", adminKey, "application/json", body)
			if got := rec.Code == http.StatusCreated; got != want {
				t.Errorf("contract accepts %q: %v; gateway answered %d %s", name, want, rec.Code, rec.Body)
			}
		})
	}
}

// TestMethodNotAllowedListsAllow: every 405 carries an Allow header with
// the methods the resource supports (RFC 9110).
func TestMethodNotAllowedListsAllow(t *testing.T) {
	tests := []struct{ method, path, allow string }{
		{http.MethodGet, "/v1/topics/orders-eu/messages", "POST"},
		{http.MethodPut, "/v1/producers/prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H", "GET, PATCH, DELETE"},
		{http.MethodDelete, "/v1/transactions/tx_01JD2X3Y4Z5A6B7C8D9E0F1G2H", "GET"},
		{http.MethodPatch, "/v1/producers", "GET, POST"},
		{http.MethodTrace, "/healthz", "GET"},
		{http.MethodPost, "/openapi.yaml", "GET"},
		{http.MethodOptions, "/v1/subscriptions/sub_01JD2X3Y4Z5A6B7C8D9E0F1G2H/pause", "POST"},
		{"BREW", "/v1/subscriptions", "GET, POST"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := do(newRouter(t, &recordingSender{}), tc.method, tc.path, adminKey, "", "")
			if rec.Code != http.StatusMethodNotAllowed {
				t.Fatalf("status = %d, want 405", rec.Code)
			}
			if got := rec.Header().Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
			var p problemBody
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Type != problem.TypeBase+"method-not-allowed" {
				t.Errorf("problem = %+v (%v)", p, err)
			}
		})
	}
}
