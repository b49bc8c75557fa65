package broker

import (
	"errors"
	"strings"
	"testing"
)

func TestMissingNamesUnregisteredMasters(t *testing.T) {
	tests := []struct {
		name      string
		masters   map[string]string
		lookupErr error
		want      []string // substrings of the reason; nil: registered
	}{
		{"no name server answered", nil, errors.New("dial tcp: refused"), []string{"no master broker known"}},
		{"no master known", map[string]string{}, nil, []string{"no master broker known"}},
		{"two masters, none registered", map[string]string{"broker-a": "10.0.0.1:10911", "broker-b": "10.0.0.2:10911"}, nil,
			[]string{"broker-a (10.0.0.1:10911)", "broker-b (10.0.0.2:10911)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCheckLinks(&remoting{}, []string{"127.0.0.1:1"}, "g", "id", nil)
			c.masters, c.lookupErr = tc.masters, tc.lookupErr
			err := c.missing()
			var nr *NotRegisteredError
			if !errors.As(err, &nr) {
				t.Fatalf("missing() = %v, want a *NotRegisteredError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(nr.Reason(), w) {
					t.Errorf("reason %q lacks %q", nr.Reason(), w)
				}
			}
			if tc.lookupErr != nil && strings.Contains(nr.Reason(), "refused") {
				t.Error("internal error text in the reason")
			}
		})
	}
}
