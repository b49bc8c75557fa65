package txcallback

import (
	"fmt"
	"testing"
)

func TestRecentTxsKeepsTheLastSize(t *testing.T) {
	tests := []struct {
		name      string
		size, put int
	}{
		{"under the bound", 4, 3},
		{"at the bound", 4, 4},
		{"past the bound", 4, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecentTxs(tc.size)
			for i := 0; i < tc.put; i++ {
				r.put(Transaction{ID: fmt.Sprint(i)})
				r.put(Transaction{ID: fmt.Sprint(i), Topic: "again"}) // a second put replaces, takes no slot
			}
			if len(r.byID) > tc.size {
				t.Fatalf("%d entries, bound %d", len(r.byID), tc.size)
			}
			for i := 0; i < tc.put; i++ {
				tx, ok := r.get(fmt.Sprint(i))
				if want := i >= tc.put-tc.size; ok != want || ok && tx.Topic != "again" {
					t.Errorf("entry %d: %v %+v, want kept=%v", i, ok, tx, want)
				}
			}
		})
	}
}
