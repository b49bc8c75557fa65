package subscription_test

import (
	"testing"

	"github.com/zeroloss/zeroloss/internal/subscription"
)

func TestValidTagFilter(t *testing.T) {
	tests := map[string]bool{
		"*": true, "paid": true, "paid||refunded": true, "paid || refunded": true,
		"": false, "a|b": false, "a||": false, "a b": false, "||": false,
		// Only ASCII spaces are trimmed: U+3000 is a tag like any other.
		"\u3000": true, "x||\u3000": true, "a\t|| b": false,
	}
	for expr, want := range tests {
		if got := subscription.ValidTagFilter(expr); got != want {
			t.Errorf("ValidTagFilter(%q) = %v, want %v", expr, got, want)
		}
	}
}
