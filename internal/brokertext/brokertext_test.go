package brokertext_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zeroloss/zeroloss/internal/brokertext"
)

// controls are every character the rules refuse: U+0000–U+001F and U+007F.
func controls() []rune {
	out := []rune{0x7f}
	for r := rune(0); r <= 0x1f; r++ {
		out = append(out, r)
	}
	return out
}

// field builds a message with s in one field and names the pointer a
// violation of that field must carry.
type field struct {
	name    string
	build   func(s string) brokertext.Message
	pointer string
}

var fields = []field{
	{"tag", func(s string) brokertext.Message { return brokertext.Message{Tag: s} }, "/tag"},
	{"key", func(s string) brokertext.Message { return brokertext.Message{Keys: []string{"ok", s}} }, "/keys/1"},
	{"sharding key", func(s string) brokertext.Message { return brokertext.Message{ShardingKey: s} }, "/shardingKey"},
	{"property value", func(s string) brokertext.Message {
		return brokertext.Message{Properties: map[string]string{"region": s}}
	}, "/properties/region"},
	{"property name", func(s string) brokertext.Message {
		return brokertext.Message{Properties: map[string]string{s: "v"}}
	}, "/properties/" + "<name>"},
}

func pointerFor(f field, s string) string {
	if f.name == "property name" {
		return "/properties/" + strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
	}
	return f.pointer
}

func TestEveryFieldRefusesEveryControlCharacter(t *testing.T) {
	for _, f := range fields {
		for _, c := range controls() {
			for _, s := range []string{string(c), "a" + string(c), "a" + string(c) + "b"} {
				t.Run(fmt.Sprintf("%s/%U/%q", f.name, c, s), func(t *testing.T) {
					vs := brokertext.Check("/messages/2", f.build(s))
					want := "/messages/2" + pointerFor(f, s)
					if len(vs) != 1 || vs[0].Field != want || vs[0].Reason == "" {
						t.Fatalf("violations %+v, want one at %s", vs, want)
					}
				})
			}
		}
	}
}

func TestForgedSystemPropertiesAreRefusedInEveryField(t *testing.T) {
	forged := []string{"TRAN_MSG\x01true", "DELAY\x013", "UNIQ_KEY\x01someone-elses-id", "TIMER_DELIVER_MS\x014102444800000"}
	for _, f := range fields {
		for _, p := range forged {
			s := "x\x02" + p
			t.Run(f.name+"/"+p[:strings.IndexByte(p, 1)], func(t *testing.T) {
				if vs := brokertext.Check("", f.build(s)); len(vs) != 1 || vs[0].Field != pointerFor(f, s) {
					t.Fatalf("violations %+v", vs)
				}
			})
		}
	}
}

func TestRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // 2 bytes, 1 character
	tests := []struct {
		name string
		m    brokertext.Message
		want []string // the pointers of the violations
	}{
		{"everything valid", brokertext.Message{Tag: "TagA", Keys: []string{"order-1", "cust-9"}, ShardingKey: "cust 9",
			Properties: map[string]string{"region": "eu", "a.b-c_D9": "x y", "empty": ""}}, nil},
		{"absent fields", brokertext.Message{}, nil},
		{"tag of 128 characters", brokertext.Message{Tag: long(128)}, nil},
		{"tag of 129 characters", brokertext.Message{Tag: long(129)}, []string{"/tag"}},
		{"tag with a space", brokertext.Message{Tag: "a b"}, []string{"/tag"}},
		{"tag with a bar", brokertext.Message{Tag: "a|b"}, []string{"/tag"}},
		{"tag of non-ASCII text", brokertext.Message{Tag: "日本"}, nil},
		{"key of 128 characters", brokertext.Message{Keys: []string{long(128)}}, nil},
		{"key of 129 characters", brokertext.Message{Keys: []string{long(129)}}, []string{"/keys/0"}},
		{"empty key", brokertext.Message{Keys: []string{"a", ""}}, []string{"/keys/1"}},
		{"key with a space", brokertext.Message{Keys: []string{"a b"}}, []string{"/keys/0"}},
		{"key with a bar", brokertext.Message{Keys: []string{"a|b"}}, nil},
		{"sharding key with a space", brokertext.Message{ShardingKey: "a b"}, nil},
		{"sharding key of 129 characters", brokertext.Message{ShardingKey: long(129)}, []string{"/shardingKey"}},
		{"value of 4096 characters", brokertext.Message{Properties: map[string]string{"v": long(4096)}}, nil},
		{"value of 4097 characters", brokertext.Message{Properties: map[string]string{"v": long(4097)}}, []string{"/properties/v"}},
		{"name of 64 characters", brokertext.Message{Properties: map[string]string{strings.Repeat("n", 64): "v"}}, nil},
		{"name of 65 characters", brokertext.Message{Properties: map[string]string{strings.Repeat("n", 65): "v"}}, []string{"/properties/" + strings.Repeat("n", 65)}},
		{"empty name", brokertext.Message{Properties: map[string]string{"": "v"}}, []string{"/properties/"}},
		{"name with a space", brokertext.Message{Properties: map[string]string{"a b": "v"}}, []string{"/properties/a b"}},
		{"name with a slash is escaped", brokertext.Message{Properties: map[string]string{"a/b~": "v"}}, []string{"/properties/a~1b~0"}},
		{"name with a colon", brokertext.Message{Properties: map[string]string{"a:b": "v"}}, []string{"/properties/a:b"}},
		{"non-ASCII name", brokertext.Message{Properties: map[string]string{"régión": "v"}}, []string{"/properties/régión"}},
		{"reserved names, sorted", brokertext.Message{Properties: map[string]string{"TRAN_MSG": "true", "DELAY": "3", "ok": "v"}},
			[]string{"/properties/DELAY", "/properties/TRAN_MSG"}},
		{"every field at once", brokertext.Message{Tag: "a|", Keys: []string{"k k"}, ShardingKey: "\x00", Properties: map[string]string{"UNIQ_KEY": "x"}},
			[]string{"/tag", "/keys/0", "/shardingKey", "/properties/UNIQ_KEY"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := brokertext.Check("", tc.m)
			var got []string
			for _, v := range vs {
				got = append(got, v.Field)
				if v.Reason == "" {
					t.Errorf("violation at %s has no reason", v.Field)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("violations at %v, want %v (%+v)", got, tc.want, vs)
			}
		})
	}
}

func TestReservedNames(t *testing.T) {
	reserved := []string{
		// Critical RocketMQ names: a forged one loses or hides a message.
		"TRAN_MSG", "DELAY", "UNIQ_KEY", "TIMER_DELIVER_MS", "__STARTDELIVERTIME", "TIMER_DELAY_SEC", "TIMER_DELAY_MS",
		"KEYS", "TAGS", "WAIT", "PGROUP", "REAL_TOPIC", "RETRY_TOPIC", "CHECK_IMMUNITY_TIME_IN_SECONDS",
		"__SHARDINGKEY", "SHARDING_KEY", "DUP_INFO", "__CRC32#", "INNER_MULTI_DISPATCH", "DLQ_ORIGIN_MESSAGE_ID",
		"__RMQ.TRANSIENT.TOPIC_SYS_FLAG", "__RMQ.TRANSIENT.anything",
		// The gateway's.
		"traceparent", "tracestate", "baggage", "ZL_TX", "ZL_", "zl-anything",
	}
	for _, n := range reserved {
		if !brokertext.Reserved(n) {
			t.Errorf("Reserved(%q) = false", n)
		}
	}
	for _, n := range []string{"TRAN_MSG", "UNIQ_KEY", "__STARTDELIVERTIME", "SHARDING_KEY", "__RMQ.TRANSIENT.x"} {
		if !brokertext.System(n) {
			t.Errorf("System(%q) = false", n)
		}
	}
	for _, n := range []string{"__x", "TIMER_X", "POP_custom", "bname", "DELAY_MS"} {
		if !brokertext.Reserved(n) {
			t.Errorf("Reserved(%q) = false: a RocketMQ name family is refused whole", n)
		}
	}
	for _, n := range []string{"traceparent", "ZL_TX", "zl-x"} {
		if brokertext.System(n) {
			t.Errorf("System(%q) = true: the gateway's names are not RocketMQ's", n)
		}
	}
	for _, n := range []string{"region", "tran_msg", "Delay", "TRAN_MSG2", "ZL", "zl_x", "contentType", "TIMER", "_x", "POPx"} {
		if brokertext.Reserved(n) {
			t.Errorf("Reserved(%q) = true", n)
		}
	}
}

func TestCheckTagFilter(t *testing.T) {
	tests := map[string]bool{
		"*": true, "paid": true, "paid||refunded": true, "paid || refunded": true, strings.Repeat("t", 128): true,
		"": false, "a|b": false, "a||": false, "a b": false, "||": false, "**": true, strings.Repeat("t", 129): false,
		"a\x00": false, "a||b\x02TRAN_MSG\x01true": false, "a\t||b": false, "a||\x7f": false,
	}
	for expr, want := range tests {
		vs := brokertext.CheckTagFilter("/tagFilter", expr)
		if got := len(vs) == 0; got != want {
			t.Errorf("CheckTagFilter(%q) = %+v, want valid %v", expr, vs, want)
		}
		if len(vs) > 0 && vs[0].Field != "/tagFilter" {
			t.Errorf("CheckTagFilter(%q) points at %s", expr, vs[0].Field)
		}
	}
}

func TestSize(t *testing.T) {
	m := brokertext.Message{Tag: "T", Keys: []string{"a", "bc"}, ShardingKey: "s", Properties: map[string]string{"k": "vv"}}
	// TAGS\x01T\x02 KEYS\x01a bc\x02 SHARDING_KEY\x01s\x02 k\x01vv\x02
	if got, want := brokertext.Size(m), 7+10+15+5; got != want {
		t.Fatalf("Size = %d, want %d", got, want)
	}
	if got := brokertext.Size(brokertext.Message{}); got != 0 {
		t.Fatalf("Size of nothing = %d", got)
	}
	// The contract allows 64 properties of 4,096 characters: far over.
	forty := map[string]string{}
	for i := range 10 {
		forty[fmt.Sprintf("p%d", i)] = strings.Repeat("x", 4096)
	}
	if n := brokertext.Size(brokertext.Message{Properties: forty}); n <= brokertext.MaxSize {
		t.Fatalf("40 KiB of properties = %d bytes, within MaxSize %d", n, brokertext.MaxSize)
	}
	if brokertext.MaxSize+brokertext.Reserve != brokertext.BrokerLimit || brokertext.EncodeLimit <= brokertext.MaxSize || brokertext.EncodeLimit >= brokertext.BrokerLimit {
		t.Fatalf("limits out of order: MaxSize %d, EncodeLimit %d, BrokerLimit %d", brokertext.MaxSize, brokertext.EncodeLimit, brokertext.BrokerLimit)
	}
}

func TestEncodable(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		ok    bool
	}{
		{"plain", map[string]string{"TAGS": "a", "k": "", "UNIQ_KEY": "id"}, true},
		{"other control characters pass the encoder", map[string]string{"k": "a\tb\x00"}, true},
		{"name-value separator in a value", map[string]string{"TAGS": "x\x01y"}, false},
		{"property separator in a value", map[string]string{"TAGS": "x\x02TRAN_MSG\x01true"}, false},
		{"separator in a name", map[string]string{"a\x02b": "v"}, false},
		{"empty name", map[string]string{"": "v"}, false},
		{"at the limit", map[string]string{"k": strings.Repeat("x", brokertext.EncodeLimit-3)}, true},
		{"over the limit", map[string]string{"k": strings.Repeat("x", brokertext.EncodeLimit-2)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := brokertext.Encodable(tc.props); (err == nil) != tc.ok {
				t.Fatalf("Encodable = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestDecodeMatchesTheBroker(t *testing.T) {
	// MessageDecoder.string2messageProperties drops entries without a name
	// or a value; a second separator belongs to the value.
	got := brokertext.Decode("a\x011\x02\x01x\x02b\x01\x02c\x01x\x01y\x02d\x02\x02e\x01z")
	want := map[string]string{"a": "1", "c": "x\x01y", "e": "z"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Decode = %q, want %q", got, want)
	}
	if enc := brokertext.Encode(map[string]string{"b": "2", "a": "1"}); enc != "a\x011\x02b\x012\x02" {
		t.Fatalf("Encode = %q", enc)
	}
}
