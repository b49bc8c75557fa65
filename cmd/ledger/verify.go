package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// kind is what the load did with one message.
type kind int

const (
	kindSend          kind = iota // a plain send the gateway acknowledged (2xx)
	kindCommit                    // a transaction committed through the API (2xx)
	kindRollback                  // a transaction rolled back through the API (2xx)
	kindCheckCommit               // left undecided; the check URL answers commit
	kindCheckRollback             // left undecided; the check URL answers rollback
)

// delivery is one webhook request the recording endpoint received.
type delivery struct {
	messageID string // ce-id
	webhookID string // webhook-id
	at        time.Time
	ok        bool // answered 2xx
}

// book is the ledger: what was acknowledged, what was delivered, when the
// faults struck. Safe for concurrent use.
type book struct {
	mu         sync.Mutex
	expect     map[string]kind // message id → what the load did
	uncertain  int             // operations given up (outcome unknown to the client)
	deliveries []delivery
	kills      []time.Time // kill -9 of a gateway, broker master or Redis master
	notes      map[string]string
}

func newBook() *book { return &book{expect: map[string]kind{}, notes: map[string]string{}} }

// note keeps what the client saw of id (for the report of a loss).
func (b *book) note(id, what string) {
	b.mu.Lock()
	b.notes[id] = what
	b.mu.Unlock()
}

// explain describes ids: what the client saw and every attempt the
// endpoint recorded.
func (b *book) explain(ids []string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, id := range ids {
		line := id + ": " + b.notes[id] + "; attempts:"
		for _, d := range b.deliveries {
			if d.messageID == id {
				line += fmt.Sprintf(" %s ok=%v", d.at.UTC().Format("15:04:05.000"), d.ok)
			}
		}
		out = append(out, line)
	}
	return out
}

func (b *book) record(id string, k kind) {
	b.mu.Lock()
	b.expect[id] = k
	b.mu.Unlock()
}

func (b *book) giveUp() {
	b.mu.Lock()
	b.uncertain++
	b.mu.Unlock()
}

func (b *book) delivered(d delivery) {
	b.mu.Lock()
	b.deliveries = append(b.deliveries, d)
	b.mu.Unlock()
}

func (b *book) kill(at time.Time) {
	b.mu.Lock()
	b.kills = append(b.kills, at)
	b.mu.Unlock()
}

// figures is the verdict at quiescence.
type figures struct {
	Sends, Commits, Rollbacks, CheckCommits, CheckRollbacks int
	Uncertain                                               int
	Delivered                                               int // distinct message ids delivered (2xx)
	Lost                                                    []string
	LostByKind                                              [5]int // indexed by kind
	Leaked                                                  []string
	Duplicates                                              int // extra 2xx deliveries of a message id
	DupOutsideKill                                          []string
	DupOtherWebhookID                                       []string
	InFlightAtKills                                         int // distinct messages first delivered within the kill window
	Kills                                                   int
	Unexpected                                              int    // answers a correct client must never get
	Faults                                                  string // what the fault schedule did and measured
	Times                                                   string // recovery times by kind: min–max (count)
}

// failed reports whether the figures show a loss, a leak or an
// unexplained duplicate.
func (f figures) failed() bool {
	return f.Unexpected > 0 || len(f.Lost) > 0 || len(f.Leaked) > 0 || len(f.DupOutsideKill) > 0 || len(f.DupOtherWebhookID) > 0
}

func (f figures) String() string {
	return fmt.Sprintf("ledger: sends=%d commits=%d rollbacks=%d check-commits=%d check-rollbacks=%d uncertain=%d | "+
		"delivered=%d lost=%d (sends %d, commits %d, check-commits %d) leaked=%d unexpected=%d | duplicates=%d (other webhook-id %d, outside a kill %d; in flight at %d kills: %d) | times: %s | faults: %s",
		f.Sends, f.Commits, f.Rollbacks, f.CheckCommits, f.CheckRollbacks, f.Uncertain,
		f.Delivered, len(f.Lost), f.LostByKind[kindSend], f.LostByKind[kindCommit], f.LostByKind[kindCheckCommit], len(f.Leaked), f.Unexpected, f.Duplicates, len(f.DupOtherWebhookID), len(f.DupOutsideKill), f.Kills, f.InFlightAtKills, f.Times, f.Faults)
}

// verify computes the figures. A message counts as in flight at a kill when
// its first successful delivery lies within window of the kill: a gateway
// killed between the endpoint's 2xx and its delivered mark, or a broker
// whose consume offsets had not reached the new master, redelivers it.
func (b *book) verify(window time.Duration) figures {
	b.mu.Lock()
	defer b.mu.Unlock()
	var f figures
	f.Uncertain = b.uncertain
	f.Kills = len(b.kills)
	okCount := map[string]int{}
	first := map[string]time.Time{}
	hookID := map[string]string{}
	otherID := map[string]bool{}
	anyAttempt := map[string]bool{}
	for _, d := range b.deliveries {
		anyAttempt[d.messageID] = true
		if prev, seen := hookID[d.messageID]; seen && prev != d.webhookID {
			otherID[d.messageID] = true
		}
		hookID[d.messageID] = d.webhookID
		if !d.ok {
			continue
		}
		if okCount[d.messageID] == 0 || d.at.Before(first[d.messageID]) {
			first[d.messageID] = d.at
		}
		okCount[d.messageID]++
	}
	nearKill := func(t time.Time) bool {
		for _, k := range b.kills {
			if t.After(k.Add(-window)) && t.Before(k.Add(window)) {
				return true
			}
		}
		return false
	}
	for id, k := range b.expect {
		switch k {
		case kindSend:
			f.Sends++
		case kindCommit:
			f.Commits++
		case kindRollback:
			f.Rollbacks++
		case kindCheckCommit:
			f.CheckCommits++
		case kindCheckRollback:
			f.CheckRollbacks++
		}
		switch k {
		case kindSend, kindCommit, kindCheckCommit:
			if okCount[id] == 0 {
				f.Lost = append(f.Lost, id)
				f.LostByKind[k]++
			}
		case kindRollback, kindCheckRollback:
			if anyAttempt[id] {
				f.Leaked = append(f.Leaked, id)
			}
		}
	}
	for id, n := range okCount {
		f.Delivered++
		if nearKill(first[id]) {
			f.InFlightAtKills++
		}
		if n > 1 {
			f.Duplicates += n - 1
			if !nearKill(first[id]) {
				f.DupOutsideKill = append(f.DupOutsideKill, id)
			}
		}
	}
	for id := range otherID {
		f.DupOtherWebhookID = append(f.DupOtherWebhookID, id)
	}
	sort.Strings(f.Lost)
	sort.Strings(f.Leaked)
	sort.Strings(f.DupOutsideKill)
	sort.Strings(f.DupOtherWebhookID)
	return f
}

// pending returns how many expected deliveries have not arrived yet.
func (b *book) pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	got := map[string]bool{}
	for _, d := range b.deliveries {
		if d.ok {
			got[d.messageID] = true
		}
	}
	n := 0
	for id, k := range b.expect {
		if (k == kindSend || k == kindCommit || k == kindCheckCommit) && !got[id] {
			n++
		}
	}
	return n
}

func sample(ids []string) string {
	if len(ids) > 5 {
		return strings.Join(ids[:5], ",") + ",…"
	}
	return strings.Join(ids, ",")
}
