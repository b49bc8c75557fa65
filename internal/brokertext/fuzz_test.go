package brokertext_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/brokertext"
)

// FuzzAcceptedTextRoundTrips checks the invariant the checks exist for:
// whatever Check accepts, once the gateway has built the message as the
// broker package does (with the real RocketMQ client) and encoded it, the
// broker decodes exactly the properties that were set — no forged system
// property, no lost field. It also checks the encoder's own guard: any
// property set Encodable accepts decodes to itself.
//
// The seed corpus is in testdata/fuzz/FuzzAcceptedTextRoundTrips; run
// `go test -fuzz FuzzAcceptedTextRoundTrips ./brokertext` to search further.
func FuzzAcceptedTextRoundTrips(f *testing.F) {
	f.Add("TagA", "order-1", "cust 9", "region", "eu")
	f.Add("x\x02TRAN_MSG\x01true", "k", "", "p", "")
	f.Add("t", "k\x02DELAY\x013", "s\x02UNIQ_KEY\x01x", "TIMER_DELIVER_MS", "1")
	f.Add("", "", "", "a\x01b", "v\x02TIMER_DELIVER_MS\x014102444800000")
	f.Fuzz(func(t *testing.T, tag, key, shardingKey, name, value string) {
		var keys []string
		if key != "" {
			keys = strings.Split(key, ",")
		}
		m := brokertext.Message{Tag: tag, Keys: keys, ShardingKey: shardingKey, Properties: map[string]string{name: value}}

		// The encoder's guard, on the raw input, whatever Check says.
		raw := map[string]string{name: value, "TAGS": tag}
		if brokertext.Encodable(raw) == nil {
			if got := brokertext.Decode(brokertext.Encode(raw)); !maps.Equal(got, withoutEmpty(raw)) {
				t.Fatalf("Encodable accepted %q, which decodes as %q", raw, got)
			}
		}

		if len(brokertext.Check("", m)) > 0 {
			return
		}
		// Build it as broker.toPrimitive does.
		msg := primitive.NewMessage("topic", []byte("body"))
		msg.WithProperties(map[string]string{name: value})
		if tag != "" {
			msg.WithTag(tag)
		}
		if len(keys) > 0 {
			msg.WithKeys(keys)
		}
		if shardingKey != "" {
			msg.WithShardingKey(shardingKey)
		}
		msg.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, "0A0B0C0D0E0F00000000000000000001")
		msg.WithProperty(primitive.PropertyWaitStoreMsgOk, "true")
		sent := msg.GetProperties()
		if err := brokertext.Encodable(sent); err != nil {
			t.Fatalf("Check accepted %+v but the encoder refuses it: %v", m, err)
		}
		if n, limit := brokertext.Size(m), brokertext.MaxSize; n <= limit && brokertext.EncodedSize(sent) > brokertext.EncodeLimit {
			t.Fatalf("Size %d is within MaxSize but the full encoding is over EncodeLimit", n)
		}

		enc := msg.MarshallProperties()
		got := brokertext.Decode(enc) // as the broker decodes
		if want := withoutEmpty(sent); !maps.Equal(got, want) {
			t.Fatalf("broker decodes %q, the gateway set %q", got, want)
		}
		for k := range got {
			if brokertext.System(k) && !gatewaySets[k] {
				t.Fatalf("forged system property %s from %+v", k, m)
			}
		}
		if got["TAGS"] != tag {
			t.Fatalf("tag %q decodes as %q", tag, got["TAGS"])
		}
		if len(keys) > 0 && !slicesEqual(strings.Split(got["KEYS"], primitive.PropertyKeySeparator), keys) {
			t.Fatalf("keys %q decode as %q", keys, got["KEYS"])
		}
		if got["SHARDING_KEY"] != shardingKey {
			t.Fatalf("sharding key %q decodes as %q", shardingKey, got["SHARDING_KEY"])
		}

		// The Go client's own decoder (consumers) agrees, empty values kept.
		back := primitive.NewMessage("topic", nil)
		back.UnmarshalProperties([]byte(enc))
		if !maps.Equal(back.GetProperties(), sent) {
			t.Fatalf("client decodes %q, the gateway set %q", back.GetProperties(), sent)
		}
	})
}

// gatewaySets are the system properties the broker package sets itself.
var gatewaySets = map[string]bool{"TAGS": true, "KEYS": true, "SHARDING_KEY": true, "UNIQ_KEY": true, "WAIT": true}

func withoutEmpty(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != "" && v != "" {
			out[k] = v
		}
	}
	return out
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
