package main

import (
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := func(id, hook string, at time.Duration) delivery {
		return delivery{messageID: id, webhookID: hook, at: t0.Add(at), ok: true}
	}
	tests := []struct {
		name                      string
		expect                    map[string]kind
		deliveries                []delivery
		kills                     []time.Duration
		lost, leaked, out, other  int
		dups, inFlight, delivered int
	}{
		{
			name:       "clean",
			expect:     map[string]kind{"s": kindSend, "c": kindCommit, "r": kindRollback, "u": kindCheckCommit, "v": kindCheckRollback},
			deliveries: []delivery{ok("s", "s", 0), ok("c", "c", 0), ok("u", "u", 0)},
			delivered:  3,
		},
		{
			name:       "a lost send and a lost commit",
			expect:     map[string]kind{"s": kindSend, "c": kindCommit},
			deliveries: []delivery{{messageID: "s", webhookID: "s", at: t0}},
			lost:       2,
		},
		{
			name:       "a rolled-back message delivered, even refused",
			expect:     map[string]kind{"r": kindRollback, "v": kindCheckRollback},
			deliveries: []delivery{ok("r", "r", 0), {messageID: "v", webhookID: "v", at: t0}},
			leaked:     2, delivered: 1,
		},
		{
			name:       "duplicate at a kill with the same webhook-id",
			expect:     map[string]kind{"s": kindSend},
			deliveries: []delivery{ok("s", "s", 0), ok("s", "s", 20*time.Second)},
			kills:      []time.Duration{2 * time.Second},
			dups:       1, inFlight: 1, delivered: 1,
		},
		{
			name:       "duplicate far from any kill",
			expect:     map[string]kind{"s": kindSend},
			deliveries: []delivery{ok("s", "s", 0), ok("s", "s", time.Second)},
			kills:      []time.Duration{time.Hour},
			dups:       1, out: 1, delivered: 1,
		},
		{
			name:       "duplicate with another webhook-id",
			expect:     map[string]kind{"s": kindSend},
			deliveries: []delivery{ok("s", "a", 0), ok("s", "b", time.Second)},
			kills:      []time.Duration{0},
			dups:       1, other: 1, inFlight: 1, delivered: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBook()
			for id, k := range tt.expect {
				b.record(id, k)
			}
			for _, d := range tt.deliveries {
				b.delivered(d)
			}
			for _, k := range tt.kills {
				b.kill(t0.Add(k))
			}
			f := b.verify(10 * time.Second)
			if len(f.Lost) != tt.lost || len(f.Leaked) != tt.leaked || len(f.DupOutsideKill) != tt.out ||
				len(f.DupOtherWebhookID) != tt.other || f.Duplicates != tt.dups || f.InFlightAtKills != tt.inFlight || f.Delivered != tt.delivered {
				t.Fatalf("figures %+v", f)
			}
			want := tt.lost+tt.leaked+tt.out+tt.other > 0
			if f.failed() != want {
				t.Fatalf("failed() = %v, want %v (%s)", f.failed(), want, f)
			}
		})
	}
}

func TestFaultLogSummary(t *testing.T) {
	var l faultLog
	l.measure("broker election", 700*time.Millisecond)
	l.measure("redis promotion", 3100*time.Millisecond)
	l.measure("broker election", 2900*time.Millisecond)
	l.measure("broker back as slave", 65*time.Second)
	l.measure("broker back as slave", 42*time.Second)
	want := "broker election 700ms–2.9s (2), redis promotion 3.1s–3.1s (1), broker back as slave 42s–1m5s (2)"
	if got := l.summary(); got != want {
		t.Fatalf("summary = %q, want %q", got, want)
	}
}
