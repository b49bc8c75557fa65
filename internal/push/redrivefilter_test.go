package push

import (
	"errors"
	"testing"
	"time"
)

func TestRedriveFilterPicks(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	dl := DeadLetter{MessageID: "A", DeadAt: t0}
	tests := []struct {
		name string
		f    RedriveFilter
		want bool
	}{
		{"everything", RedriveFilter{}, true},
		{"by id", RedriveFilter{IDs: []string{"A"}}, true},
		{"another id", RedriveFilter{IDs: []string{"B"}}, false},
		{"since: inclusive", RedriveFilter{Since: t0}, true},
		{"since later", RedriveFilter{Since: t0.Add(time.Millisecond)}, false},
		{"until: exclusive", RedriveFilter{Until: t0}, false},
		{"until later", RedriveFilter{Until: t0.Add(time.Millisecond)}, true},
		{"inside the window", RedriveFilter{Since: t0.Add(-time.Hour), Until: t0.Add(time.Hour)}, true},
		{"window and another id", RedriveFilter{IDs: []string{"B"}, Since: t0.Add(-time.Hour), Until: t0.Add(time.Hour)}, false},
		{"empty window", RedriveFilter{Since: t0, Until: t0}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := map[string]bool{}
			for _, id := range tc.f.IDs {
				want[id] = true
			}
			if got := tc.f.picks(dl, want); got != tc.want {
				t.Errorf("picks = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRedriveFilterValidate(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    RedriveFilter
		bad  bool
	}{
		{"nothing set", RedriveFilter{}, false},
		{"since only", RedriveFilter{Since: t0}, false},
		{"until only", RedriveFilter{Until: t0}, false},
		{"same instant", RedriveFilter{Since: t0, Until: t0}, false},
		{"until before since", RedriveFilter{Since: t0, Until: t0.Add(-time.Nanosecond)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			if (err != nil) != tc.bad || (tc.bad && !errors.Is(err, ErrBadWindow)) {
				t.Errorf("Validate = %v, want bad %v", err, tc.bad)
			}
		})
	}
}
