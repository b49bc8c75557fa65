package main

import (
	"strings"
	"testing"
	"time"
)

func TestTxRatiosPairRoundsAndTakeTheMedian(t *testing.T) {
	row := func(mode string, conc, round, n int) *txResult {
		return &txResult{mode: mode, conc: conc, round: round, n: n, elapsed: time.Second, throughput: float64(n)}
	}
	tests := []struct {
		name string
		rs   []*txResult
		want []string // lines, in order
	}{
		{"three rounds, order alternating", []*txResult{
			row("native", 16, 1, 1000), row("gateway", 16, 1, 600),
			row("gateway", 16, 2, 800), row("native", 16, 2, 1000),
			row("native", 16, 3, 2000), row("gateway", 16, 3, 1500),
		}, []string{"16 in flight, by round: 0.60x 0.80x 0.75x; median 0.750x, rounds pooled 0.725x; goal ≥ 0.7x (median): met"}},
		{"two concurrencies, an even count of rounds", []*txResult{
			row("native", 16, 1, 1000), row("gateway", 16, 1, 600),
			row("gateway", 16, 2, 600), row("native", 16, 2, 1000),
			row("native", 64, 1, 1000), row("gateway", 64, 1, 700),
			row("gateway", 64, 2, 900), row("native", 64, 2, 1000),
		}, []string{
			"16 in flight, by round: 0.60x 0.60x; median 0.600x, rounds pooled 0.600x; goal ≥ 0.7x (median): missed",
			"64 in flight, by round: 0.70x 0.90x; median 0.800x, rounds pooled 0.800x; goal ≥ 0.7x (median): met",
		}},
		{"a round without its native row is left out", []*txResult{
			row("native", 16, 1, 1000), row("gateway", 16, 1, 700), row("gateway", 16, 2, 100),
		}, []string{"16 in flight, by round: 0.70x; median 0.700x, rounds pooled 0.700x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			txRatios(&b, tc.rs)
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(tc.want), b.String())
			}
			for i, w := range tc.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d = %q, want it to contain %q", i, lines[i], w)
				}
			}
		})
	}
}
