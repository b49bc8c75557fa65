package push

import (
	"context"
	"testing"
	"time"
)

// TestSchedulerNeverHandsOutARunningTask: a wake-up (a release's expedite
// or unpark) that reaches a task while a poller runs it does not put it
// in the heap, where a second poller could take it; it makes the task due
// at once when its poller is done with it.
func TestSchedulerNeverHandsOutARunningTask(t *testing.T) {
	tests := []struct {
		name string
		wake func(*scheduler, *task)
		done func(*scheduler, *task) // what the poller does with it
	}{
		{"expedite, then put back for later", (*scheduler).expedite, func(s *scheduler, t *task) { s.put(t, time.Now().Add(time.Hour)) }},
		{"unpark, then put back for later", (*scheduler).unpark, func(s *scheduler, t *task) { s.put(t, time.Now().Add(time.Hour)) }},
		{"expedite, then parked", (*scheduler).expedite, (*scheduler).park},
		{"unpark, then parked", (*scheduler).unpark, (*scheduler).park},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newScheduler()
			tk := &task{idx: -1}
			s.put(tk, time.Now())
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			got, _ := s.take(ctx, time.Second)
			if got != tk {
				t.Fatal("task not handed out")
			}
			tc.wake(s, tk)
			if s.len() != 0 {
				t.Fatal("a running task was put in the heap")
			}
			tc.done(s, tk)
			if tk.parked || tk.running || s.len() != 1 {
				t.Fatalf("after its poller: parked %v, running %v, %d scheduled", tk.parked, tk.running, s.len())
			}
			short, cancelShort := context.WithTimeout(context.Background(), time.Second)
			defer cancelShort()
			if got, _ := s.take(short, time.Second); got != tk {
				t.Fatal("the woken task is not due at once")
			}
		})
	}
}
