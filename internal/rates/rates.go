// Package rates turns the gateway's send and delivery counters into rates
// per interval over the last minutes, and shares each replica's rates and
// heartbeat with the others through Redis, so any replica can answer for
// all of them (the console's overview and subscription charts).
//
// Each replica samples its own Prometheus counters (zeroloss_sends_total,
// zeroloss_deliveries_total) every Heartbeat, adds the increase to the
// interval it falls in, and writes its snapshot as one field of one Redis
// hash. A reader sums the fresh snapshots. Nothing on the send or delivery
// path changes: the counters exist already.
package rates

import (
	"errors"
	"fmt"
	"time"
)

// Config says how rates are kept and shared.
type Config struct {
	// Replica names this process among the gateway's replicas.
	Replica string
	// Version is the gateway's version, shown with the replica.
	Version string
	// Interval is the width of one rate point (10 s by default).
	Interval time.Duration
	// Points is how many intervals are kept (30 by default: 5 minutes).
	Points int
	// Heartbeat is how often the counters are sampled and the snapshot
	// written (5 s by default). A replica not heard from for three
	// heartbeats is no longer seen.
	Heartbeat time.Duration
}

func (c *Config) defaults() {
	if c.Interval == 0 {
		c.Interval = 10 * time.Second
	}
	if c.Points == 0 {
		c.Points = 30
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = 5 * time.Second
	}
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Replica == "":
		return errors.New("rates: replica name is empty")
	case c.Interval < time.Second || c.Interval%time.Second != 0:
		return fmt.Errorf("rates: interval %s is not a whole number of seconds", c.Interval)
	case c.Points < 1 || c.Points > 1000:
		return fmt.Errorf("rates: %d points is out of 1..1000", c.Points)
	case c.Heartbeat <= 0 || c.Heartbeat > c.Interval:
		return fmt.Errorf("rates: heartbeat %s must be positive and at most the interval", c.Heartbeat)
	}
	return nil
}

// Count is what happened in one interval.
type Count struct {
	// OK are sends answered SEND_OK, or deliveries acknowledged.
	OK float64 `json:"ok,omitempty"`
	// Failed are sends not confirmed, or failed delivery attempts.
	Failed float64 `json:"failed,omitempty"`
}

// Series maps an interval's start (Unix seconds) to its count; intervals
// with nothing are absent.
type Series map[int64]Count

// Snapshot is what one replica publishes.
type Snapshot struct {
	Replica   string    `json:"replica"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"startedAt"`
	SeenAt    time.Time `json:"seenAt"`
	// IntervalSeconds is the width of the series' intervals.
	IntervalSeconds int64 `json:"intervalSeconds"`
	// Sends are by topic.
	Sends map[string]Series `json:"sends,omitempty"`
	// Deliveries are by subscription id.
	Deliveries map[string]Series `json:"deliveries,omitempty"`
}

// Point is one interval's rates.
type Point struct {
	// At is the interval's start.
	At time.Time
	// OK and Failed are per second.
	OK, Failed float64
}

// View is the sum of the replicas' fresh snapshots at one moment.
type View struct {
	// Replicas are the snapshots summed, by replica name.
	Replicas []Snapshot
	// Interval is the width of a point.
	Interval time.Duration

	points     int
	now        time.Time
	sends      map[string]Series
	deliveries map[string]Series
}

// newView sums snaps (of one interval width) as seen at now.
func newView(snaps []Snapshot, interval time.Duration, points int, now time.Time) View {
	v := View{Replicas: snaps, Interval: interval, points: points, now: now,
		sends: map[string]Series{}, deliveries: map[string]Series{}}
	for _, s := range snaps {
		if s.IntervalSeconds != int64(interval/time.Second) {
			continue // a replica configured otherwise: its points do not line up
		}
		add(v.sends, s.Sends)
		add(v.deliveries, s.Deliveries)
	}
	return v
}

func add(into, from map[string]Series) {
	for name, series := range from {
		dst := into[name]
		if dst == nil {
			dst = Series{}
			into[name] = dst
		}
		for at, c := range series {
			d := dst[at]
			d.OK += c.OK
			d.Failed += c.Failed
			dst[at] = d
		}
	}
}

// Sends returns the send rates of the topics keep accepts, oldest first.
func (v View) Sends(keep func(topic string) bool) []Point { return v.rates(v.sends, keep) }

// Deliveries returns the delivery rates of the subscriptions keep accepts,
// oldest first.
func (v View) Deliveries(keep func(subscription string) bool) []Point {
	return v.rates(v.deliveries, keep)
}

// rates sums the series keep accepts into one point per interval, the
// last one being the interval now is in (its rate is over the part of it
// that has passed).
func (v View) rates(by map[string]Series, keep func(string) bool) []Point {
	step := int64(v.Interval / time.Second)
	cur := v.now.Unix() - v.now.Unix()%step
	first := cur - int64(v.points-1)*step
	out := make([]Point, v.points)
	for i := range out {
		out[i].At = time.Unix(first+int64(i)*step, 0).UTC()
	}
	for name, series := range by {
		if !keep(name) {
			continue
		}
		for at, c := range series {
			if at < first || at > cur {
				continue
			}
			i := (at - first) / step
			out[i].OK += c.OK
			out[i].Failed += c.Failed
		}
	}
	for i := range out {
		secs := float64(step)
		if i == len(out)-1 {
			secs = max(v.now.Sub(out[i].At).Seconds(), 1)
		}
		out[i].OK /= secs
		out[i].Failed /= secs
	}
	return out
}
