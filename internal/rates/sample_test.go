package rates

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// counters registers the two counter families the gateway has, as the
// gateway names them.
func counters(t *testing.T) (*prometheus.Registry, *prometheus.CounterVec, *prometheus.CounterVec) {
	t.Helper()
	reg := prometheus.NewRegistry()
	sends := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zeroloss_sends_total"}, []string{"topic", "outcome"})
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zeroloss_deliveries_total"}, []string{"subscription", "outcome"})
	reg.MustRegister(sends, deliveries)
	return reg, sends, deliveries
}

func TestSampleCountsIncreasesPerInterval(t *testing.T) {
	reg, sends, deliveries := counters(t)
	r, err := NewRecorder(Config{Replica: "a", Interval: 10 * time.Second, Points: 6, Heartbeat: 5 * time.Second}, reg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_000_000, 0) // an interval start
	sends.WithLabelValues("orders", "ok").Add(5)
	if err := r.sample(t0); err != nil {
		t.Fatal(err)
	}
	sends.WithLabelValues("orders", "ok").Add(3)
	sends.WithLabelValues("orders", "flush_disk_timeout").Add(1)
	for outcome, n := range map[string]float64{"delivered": 4, "suppressed": 1, "retry": 2, "dead": 1, "gone": 1, "busy": 7} {
		deliveries.WithLabelValues("sub_1", outcome).Add(n)
	}
	if err := r.sample(t0.Add(5 * time.Second)); err != nil { // same interval
		t.Fatal(err)
	}
	sends.WithLabelValues("orders", "ok").Add(2)
	if err := r.sample(t0.Add(12 * time.Second)); err != nil { // next interval
		t.Fatal(err)
	}

	at := t0.Unix()
	if got := r.sends["orders"][at]; got != (Count{OK: 8, Failed: 1}) {
		t.Errorf("sends in the first interval = %+v, want 8 ok 1 failed", got)
	}
	if got := r.sends["orders"][at+10]; got != (Count{OK: 2}) {
		t.Errorf("sends in the second interval = %+v, want 2 ok", got)
	}
	if got := r.deliveries["sub_1"][at]; got != (Count{OK: 5, Failed: 4}) {
		t.Errorf("deliveries = %+v, want 5 acknowledged and 4 failed (busy is no attempt)", got)
	}

	// Past the window, old intervals are forgotten.
	if err := r.sample(t0.Add(10 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(r.sends) != 0 || len(r.deliveries) != 0 {
		t.Errorf("intervals past the window kept: %v %v", r.sends, r.deliveries)
	}
}

func TestViewSumsReplicasAndFilters(t *testing.T) {
	now := time.Unix(1_000_025, 0) // 5 s into the interval starting at 1_000_020
	snaps := []Snapshot{
		{Replica: "a", IntervalSeconds: 10,
			Sends:      map[string]Series{"orders": {1_000_000: {OK: 10}, 1_000_020: {OK: 5, Failed: 5}}},
			Deliveries: map[string]Series{"sub_1": {1_000_010: {OK: 20}}, "sub_2": {1_000_010: {OK: 100}}}},
		{Replica: "b", IntervalSeconds: 10,
			Sends:      map[string]Series{"orders": {1_000_000: {OK: 10}}, "secret": {1_000_000: {OK: 1000}}},
			Deliveries: map[string]Series{"sub_1": {1_000_010: {Failed: 10}, 900_000: {OK: 1}}}},
		{Replica: "c", IntervalSeconds: 60, // another width: left out
			Sends: map[string]Series{"orders": {1_000_000: {OK: 1e6}}}},
	}
	v := newView(snaps, 10*time.Second, 3, now)

	sends := v.Sends(func(topic string) bool { return topic == "orders" })
	want := []Point{
		{At: time.Unix(1_000_000, 0).UTC(), OK: 2},            // (10+10)/10 s
		{At: time.Unix(1_000_010, 0).UTC()},                   // nothing
		{At: time.Unix(1_000_020, 0).UTC(), OK: 1, Failed: 1}, // 5 over the 5 s passed
	}
	if len(sends) != len(want) {
		t.Fatalf("sends = %+v", sends)
	}
	for i := range want {
		if sends[i] != want[i] {
			t.Errorf("sends[%d] = %+v, want %+v", i, sends[i], want[i])
		}
	}
	del := v.Deliveries(func(id string) bool { return id == "sub_1" })
	if del[1].OK != 2 || del[1].Failed != 1 || del[0] != (Point{At: del[0].At}) {
		t.Errorf("deliveries of sub_1 = %+v, want 2/s ok and 1/s failed in the middle interval only", del)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{},
		{Replica: "a", Interval: 1500 * time.Millisecond, Points: 1, Heartbeat: time.Second},
		{Replica: "a", Interval: 10 * time.Second, Points: 0, Heartbeat: time.Second},
		{Replica: "a", Interval: 10 * time.Second, Points: 3, Heartbeat: 20 * time.Second},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v: valid, want an error", c)
		}
	}
}
