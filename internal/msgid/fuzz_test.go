package msgid_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zeroloss/zeroloss/internal/msgid"
)

// FuzzParse: Parse never panics, accepts exactly the 28 hex digits String
// writes (either case), and round-trips; the ids of a parsed seed are the
// seed in upper case followed by the 16-bit index.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "00", "0123456789abcdef0123456789ab", "0123456789ABCDEF0123456789AB",
		"0123456789abcdef0123456789a", "0123456789abcdef0123456789abc", "zz23456789abcdef0123456789ab", "0123456789abcdef0123456789a\n"} {
		f.Add(s, uint16(0), uint16(1))
	}
	f.Fuzz(func(t *testing.T, v string, i, j uint16) {
		s, err := msgid.Parse(v)
		if err != nil {
			if len(v) == 28 && strings.Trim(v, "0123456789abcdefABCDEF") == "" {
				t.Fatalf("Parse(%q) refused a well-formed seed: %v", v, err)
			}
			return
		}
		if len(v) != 28 || !strings.EqualFold(s.String(), v) {
			t.Fatalf("Parse(%q) accepted; String() = %q", v, s.String())
		}
		back, err := msgid.Parse(s.String())
		if err != nil || back != s {
			t.Fatalf("round trip of %q: %v, %v", s.String(), back, err)
		}
		id := s.ID(i)
		if want := strings.ToUpper(s.String()) + fmt.Sprintf("%04X", i); id != want {
			t.Fatalf("ID(%d) = %q, want %q", i, id, want)
		}
		if (s.ID(j) == id) != (i == j) {
			t.Fatalf("ID(%d) = %q and ID(%d) = %q", i, id, j, s.ID(j))
		}
	})
}
