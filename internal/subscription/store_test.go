package subscription_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/subscription"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

func newStore(t *testing.T) *subscription.Store {
	t.Helper()
	s := testenv.Shared(t)
	return subscription.NewStore(s.Redis(t), "zl:test:"+subscription.NewID()+":")
}

// TestConcurrentChangesAreNotLost: replicas changing one subscription at
// once (each a read-modify-write) all land: none overwrites another.
func TestConcurrentChangesAreNotLost(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	s, err := st.Create(ctx, subscription.Subscription{ID: subscription.NewID(), Tenant: "t", Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.Change(ctx, s.ID, nil, func(s *subscription.Subscription) error {
				s.Name += "," + strconv.Itoa(i)
				return nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Get(ctx, "t", s.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range writers {
		if !containsPart(got.Name, strconv.Itoa(i)) {
			t.Fatalf("change %d lost: name %q", i, got.Name)
		}
	}
	if got.Version <= s.Version {
		t.Fatalf("version %d after changes, %d before", got.Version, s.Version)
	}
}

func containsPart(list, part string) bool {
	for _, p := range strings.Split(list, ",") {
		if p == part {
			return true
		}
	}
	return false
}

// TestDeleteCannotBeUndone: a change (a pause, a resume) computed from a
// copy read before the delete fails; the subscription stays deleted and
// no snapshot shows it again.
func TestDeleteCannotBeUndone(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	s, err := st.Create(ctx, subscription.Subscription{ID: subscription.NewID(), Tenant: "t", Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	v0, _, err := st.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	deleted := make(chan struct{})
	var changeErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		first := true
		_, changeErr = st.Change(ctx, s.ID, nil, func(s *subscription.Subscription) error {
			if first {
				// The stale reader: it has read, the delete happens now.
				first = false
				close(read)
				<-deleted
			}
			s.Paused = false
			return nil
		})
	}()
	<-read
	if err := st.Delete(ctx, "t", s.ID); err != nil {
		t.Fatal(err)
	}
	close(deleted)
	wg.Wait()
	if !errors.Is(changeErr, subscription.ErrNotFound) {
		t.Fatalf("change after delete: %v, want ErrNotFound", changeErr)
	}
	if err := st.SetPaused(ctx, s.ID, "gone"); !errors.Is(err, subscription.ErrNotFound) {
		t.Fatalf("pause after delete: %v, want ErrNotFound", err)
	}
	v1, all, err := st.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 || v1 <= v0 {
		t.Fatalf("snapshot after delete: version %d (before %d), %d subscriptions", v1, v0, len(all))
	}
}

// TestCreateRefusesAnExistingID: Create never overwrites.
func TestCreateRefusesAnExistingID(t *testing.T) {
	st := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := subscription.Subscription{ID: subscription.NewID(), Tenant: "t", Name: "first"}
	if _, err := st.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Name = "second"
	if _, err := st.Create(ctx, s); !errors.Is(err, subscription.ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	if got, _ := st.Get(ctx, "t", s.ID); got.Name != "first" {
		t.Fatalf("name %q", got.Name)
	}
}
