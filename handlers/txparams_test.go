package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/zeroloss/zeroloss/internal/contracttest"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/txcallback"
)

// TestTransactionIDCheckAgreesWithTheContract: the typed check that lets a
// commit or rollback skip kin-openapi (txcallback.IsID) accepts exactly
// the ids the contract accepts, and a commit or rollback whose id it
// refuses, or that carries a body, still meets the contract: 400
// validation naming the id, or the operation's own answer.
func TestTransactionIDCheckAgreesWithTheContract(t *testing.T) {
	accepts := contracttest.Accepts(t)
	h := newTxRouter(t)
	for _, tc := range []struct {
		name, id string
		want     bool
	}{
		{"a ULID", "tx_01JD2X3Y4Z5A6B7C8D9E0F1G2H", true},
		{"lower case", "tx_01jd2x3y4z5a6b7c8d9e0f1g2h", true},
		{"25 characters", "tx_01JD2X3Y4Z5A6B7C8D9E0F1G2", false},
		{"27 characters", "tx_01JD2X3Y4Z5A6B7C8D9E0F1G2HJ", false},
		{"another prefix", "sub_01JD2X3Y4Z5A6B7C8D9E0F1G2", false},
		{"upper-case prefix", "TX_01JD2X3Y4Z5A6B7C8D9E0F1G2H", false},
		{"a dash", "tx_01JD2X3Y4Z5A6B7C8D9E0F1G-H", false},
		{"an underscore", "tx_01JD2X3Y4Z5A6B7C8D9E0F1G_H", false},
		{"no prefix", "01JD2X3Y4Z5A6B7C8D9E0F1G2H", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, op := range []string{"commit", "rollback"} {
				path := "/v1/transactions/" + tc.id + "/" + op
				kin := accepts(path, nil)
				if got := txcallback.IsID(tc.id); got != tc.want || kin != tc.want {
					t.Fatalf("IsID(%q) = %v, the contract accepts: %v; want %v", tc.id, got, kin, tc.want)
				}
				rec := do(h, http.MethodPost, path, adminKey, "", "")
				if tc.want {
					if rec.Code != http.StatusOK {
						t.Fatalf("%s: status %d, want 200: %s", op, rec.Code, rec.Body)
					}
					continue
				}
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("%s: status %d, want 400: %s", op, rec.Code, rec.Body)
				}
				var p problemBody
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Type != problem.TypeBase+"validation" {
					t.Fatalf("%s: problem %+v (%v), want type validation", op, p, err)
				}
				if len(p.Errors) == 0 || !strings.Contains(p.Errors[0].Field, "id") {
					t.Fatalf("%s: errors %+v, want the id named", op, p.Errors)
				}
			}
		})
	}
	// A body (which the contract does not describe) takes the generic way,
	// as before the typed check.
	path := "/v1/transactions/tx_01JD2X3Y4Z5A6B7C8D9E0F1G2H/commit"
	rec := do(h, http.MethodPost, path, adminKey, "application/json", `{"x":1}`)
	if kin := accepts(path, []byte(`{"x":1}`)); kin != (rec.Code == http.StatusOK) {
		t.Fatalf("commit with a body: %d through the router; the contract accepts it: %v", rec.Code, kin)
	}
}
