package send_test

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/contracttest"
	"github.com/zeroloss/zeroloss/internal/send"
)

const (
	messagesPath = "/v1/topics/orders/messages"
	batchesPath  = "/v1/topics/orders/message-batches"
	beginPath    = "/v1/transactions"
)

// TestParamChecksAgreeWithTheContract: the typed checks of the send
// operations' parameters (the path's topic, the Idempotency-Key header)
// accept exactly what the contract accepts.
func TestParamChecksAgreeWithTheContract(t *testing.T) {
	accepts := contracttest.Accepts(t)
	body := []byte(`{"body":"x"}`)
	for _, tc := range []struct {
		name, topic string
		want        bool
	}{
		{"plain", "orders", true},
		{"all classes", "Or-d_3", true},
		{"one character", "a", true},
		{"127 characters", strings.Repeat("t", 127), true},
		{"reserved (the handler refuses it)", "TBW102", true},
		{"128 characters", strings.Repeat("t", 128), false},
		{"a dot", "a.b", false},
		{"a space", "a%20b", false},
		{"a percent sign", "a%25b", false},
		{"non-ASCII", "%C3%A9", false},
		{"a plus", "a+b", false},
	} {
		t.Run("topic "+tc.name, func(t *testing.T) {
			raw, err := url.PathUnescape(tc.topic)
			if err != nil {
				t.Fatal(err)
			}
			kin := accepts("/v1/topics/"+tc.topic+"/messages", body)
			if got := send.TopicParam(raw); got != tc.want || kin != tc.want {
				t.Fatalf("TopicParam(%q) = %v, the contract accepts: %v; want %v", raw, got, kin, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, key string
		want      bool
	}{
		{"plain", "order-42-created", true},
		{"every printable character", "!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", true},
		{"255 characters", strings.Repeat("k", 255), true},
		{"256 characters", strings.Repeat("k", 256), false},
		{"a space inside", "a b", false},
		{"a tab inside", "a\tb", false},
		{"DEL", "a\x7f", false},
		{"non-ASCII", "cl\u00e9", false},
	} {
		t.Run("key "+tc.name, func(t *testing.T) {
			kin := accepts(messagesPath, body, "Idempotency-Key", tc.key)
			if got := send.KeyParam(tc.key); got != tc.want || kin != tc.want {
				t.Fatalf("KeyParam(%q) = %v, the contract accepts: %v; want %v", tc.key, got, kin, tc.want)
			}
		})
	}
}

// FuzzParamChecksNeverAcceptWhatTheContractRefuses: a topic or an
// Idempotency-Key the typed checks accept, the contract accepts.
func FuzzParamChecksNeverAcceptWhatTheContractRefuses(f *testing.F) {
	for _, s := range []string{"orders", "a.b", "TBW102", "k-1", "a b", "\x7f", "é"} {
		f.Add(s)
	}
	accepts := contracttest.Accepts(f)
	body := []byte(`{"body":"x"}`)
	f.Fuzz(func(t *testing.T, s string) {
		if send.TopicParam(s) && !accepts("/v1/topics/"+url.PathEscape(s)+"/messages", body) {
			t.Fatalf("TopicParam accepts %q, the contract refuses it", s)
		}
		if send.KeyParam(s) && !accepts(messagesPath, body, "Idempotency-Key", s) {
			t.Fatalf("KeyParam accepts %q, the contract refuses it", s)
		}
	})
}

// decoded runs the fast path for path.
func decoded(path string, body []byte) (any, bool) {
	switch path {
	case batchesPath:
		return send.DecodeBatch(body)
	case beginPath:
		return send.DecodeBegin(body)
	}
	return send.DecodeMessage(body)
}

// bound is what the generated handler binds from a body the contract
// accepted (encoding/json into the request type).
func bound(t testing.TB, path string, body []byte) any {
	t.Helper()
	if path == beginPath {
		var r api.BeginTransactionRequest
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("bind %s: %v", body, err)
		}
		return &r
	}
	if path == batchesPath {
		var r api.PublishBatchRequest
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("bind %s: %v", body, err)
		}
		return &r
	}
	var r api.PublishMessageRequest
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("bind %s: %v", body, err)
	}
	return &r
}

// TestDecodeAgreesWithTheContract runs bodies through the generic
// validator and the one-pass decoder: for every body the contract refuses
// both refuse (the generic validator then words the problem); every body
// the decoder accepts, the contract accepts, bound to the same request the
// generated handler would bind; a few rare valid forms the decoder leaves
// to the generic way (declined).
func TestDecodeAgreesWithTheContract(t *testing.T) {
	long := func(n int, c string) string { return strings.Repeat(c, n) }
	const prd = "prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H"
	tests := []struct {
		name, path, body string
		want             string // "accept", "refuse" (both refuse), "decline" (contract accepts, decoder declines)
	}{
		{"minimal", messagesPath, `{"body":"x"}`, "accept"},
		{"HTML characters", messagesPath, `{"body":"<a href=\"x\">&amp;</a>","tag":"a<b>&","properties":{"z":"\u2028","a":"<"}}`, "accept"},
		{"everything", messagesPath, `{"body":"{\"orderId\":42}","encoding":"utf8","tag":"created","keys":["order-42","k2"],"properties":{"region":"eu","a.b-c_d":""},"shardingKey":"customer 7","delaySeconds":30}`, "accept"},
		{"white space everywhere", messagesPath, " \n{ \"body\" :\t\"x\" , \"keys\" : [ \"a\" , \"b\" ] , \"properties\" : { } }\r\n", "accept"},
		{"base64", messagesPath, `{"body":"aGk=","encoding":"base64"}`, "accept"},
		{"base64 two pads", messagesPath, `{"body":"aA==","encoding":"base64"}`, "accept"},
		{"empty keys", messagesPath, `{"body":"x","keys":[]}`, "accept"},
		{"unicode body and escapes", messagesPath, `{"body":"h\u00e9llo \ud83d\ude00 \"q\" \\ \/ \n"}`, "accept"},
		{"escaped tag", messagesPath, `{"body":"x","tag":"\u0041"}`, "accept"},
		{"128-byte tag", messagesPath, `{"body":"x","tag":"` + long(128, "t") + `"}`, "accept"},
		{"32 keys", messagesPath, `{"body":"x","keys":[` + strings.TrimSuffix(strings.Repeat(`"k",`, 32), ",") + `]}`, "accept"},
		{"4096-byte value", messagesPath, `{"body":"x","properties":{"a":"` + long(4096, "v") + `"}}`, "accept"},
		{"delay 86400", messagesPath, `{"body":"x","delaySeconds":86400}`, "accept"},
		{"reserved property name (the Service refuses it)", messagesPath, `{"body":"x","properties":{"UNIQ_KEY":"1"}}`, "accept"},
		{"batch", batchesPath, `{"messages":[{"body":"a"},{"body":"Yg==","encoding":"base64","tag":"t","keys":["k"],"properties":{"p":"v"}}]}`, "accept"},
		{"batch of 100", batchesPath, `{"messages":[` + strings.TrimSuffix(strings.Repeat(`{"body":"m"},`, 100), ",") + `]}`, "accept"},

		{"empty", messagesPath, ``, "refuse"},
		{"not JSON", messagesPath, `{"body":`, "refuse"},
		{"array", messagesPath, `["body"]`, "refuse"},
		{"no body", messagesPath, `{"tag":"t"}`, "refuse"},
		{"empty body", messagesPath, `{"body":""}`, "refuse"},
		{"body null", messagesPath, `{"body":null}`, "refuse"},
		{"body number", messagesPath, `{"body":1}`, "refuse"},
		{"body object", messagesPath, `{"body":{}}`, "refuse"},
		{"unknown member", messagesPath, `{"body":"x","priority":1}`, "refuse"},
		{"member in another case", messagesPath, `{"Body":"x"}`, "refuse"},
		{"both cases", messagesPath, `{"body":"x","Body":"y"}`, "refuse"},
		{"encoding unknown", messagesPath, `{"body":"x","encoding":"hex"}`, "refuse"},
		{"encoding in capitals", messagesPath, `{"body":"x","encoding":"BASE64"}`, "refuse"},
		{"encoding null", messagesPath, `{"body":"x","encoding":null}`, "refuse"},
		{"bad base64", messagesPath, `{"body":"***","encoding":"base64"}`, "refuse"},
		{"base64 without padding", messagesPath, `{"body":"aGk","encoding":"base64"}`, "refuse"},
		{"base64 three pads", messagesPath, `{"body":"a===","encoding":"base64"}`, "refuse"},
		{"base64 pad inside", messagesPath, `{"body":"aA==aGk=","encoding":"base64"}`, "refuse"},
		{"base64 url alphabet", messagesPath, `{"body":"a-_=","encoding":"base64"}`, "refuse"},
		{"tag empty", messagesPath, `{"body":"x","tag":""}`, "refuse"},
		{"tag null", messagesPath, `{"body":"x","tag":null}`, "refuse"},
		{"tag with a space", messagesPath, `{"body":"x","tag":"a b"}`, "refuse"},
		{"tag with a bar", messagesPath, `{"body":"x","tag":"a|b"}`, "refuse"},
		{"tag with DEL", messagesPath, `{"body":"x","tag":"a\u007f"}`, "refuse"},
		{"tag forging a property", messagesPath, `{"body":"x","tag":"x\u0002TRAN_MSG\u0001true"}`, "refuse"},
		{"tag too long", messagesPath, `{"body":"x","tag":"` + long(129, "t") + `"}`, "refuse"},
		{"tag number", messagesPath, `{"body":"x","tag":5}`, "refuse"},
		{"keys not an array", messagesPath, `{"body":"x","keys":"k"}`, "refuse"},
		{"keys null", messagesPath, `{"body":"x","keys":null}`, "refuse"},
		{"key null", messagesPath, `{"body":"x","keys":[null]}`, "refuse"},
		{"key empty", messagesPath, `{"body":"x","keys":[""]}`, "refuse"},
		{"key with a space", messagesPath, `{"body":"x","keys":["a b"]}`, "refuse"},
		{"key with a control character", messagesPath, `{"body":"x","keys":["k\u0001"]}`, "refuse"},
		{"key too long", messagesPath, `{"body":"x","keys":["` + long(129, "k") + `"]}`, "refuse"},
		{"33 keys", messagesPath, `{"body":"x","keys":[` + strings.TrimSuffix(strings.Repeat(`"k",`, 33), ",") + `]}`, "refuse"},
		{"keys trailing comma", messagesPath, `{"body":"x","keys":["a",]}`, "refuse"},
		{"properties not an object", messagesPath, `{"body":"x","properties":[]}`, "refuse"},
		{"properties null", messagesPath, `{"body":"x","properties":null}`, "refuse"},
		{"property value null", messagesPath, `{"body":"x","properties":{"a":null}}`, "refuse"},
		{"property value number", messagesPath, `{"body":"x","properties":{"a":1}}`, "refuse"},
		{"property value with a separator", messagesPath, `{"body":"x","properties":{"a":"v\u0002UNIQ_KEY\u00011"}}`, "refuse"},
		{"property value with a tab", messagesPath, `{"body":"x","properties":{"a":"v\tw"}}`, "refuse"},
		{"property value too long", messagesPath, `{"body":"x","properties":{"a":"` + long(4097, "v") + `"}}`, "refuse"},
		{"65 properties", messagesPath, `{"body":"x","properties":{` + func() string {
			var b strings.Builder
			for i := range 65 {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`"p` + strings.Repeat("x", i) + `":"v"`)
			}
			return b.String()
		}() + `}}`, "refuse"},
		{"sharding key empty", messagesPath, `{"body":"x","shardingKey":""}`, "refuse"},
		{"sharding key with DEL", messagesPath, `{"body":"x","shardingKey":"s\u007f"}`, "refuse"},
		{"sharding key too long", messagesPath, `{"body":"x","shardingKey":"` + long(129, "s") + `"}`, "refuse"},
		{"delay 0", messagesPath, `{"body":"x","delaySeconds":0}`, "refuse"},
		{"delay negative", messagesPath, `{"body":"x","delaySeconds":-5}`, "refuse"},
		{"delay too long", messagesPath, `{"body":"x","delaySeconds":86401}`, "refuse"},
		{"delay fraction", messagesPath, `{"body":"x","delaySeconds":1.5}`, "refuse"},
		{"delay string", messagesPath, `{"body":"x","delaySeconds":"5"}`, "refuse"},
		{"delay null", messagesPath, `{"body":"x","delaySeconds":null}`, "refuse"},
		{"delay huge", messagesPath, `{"body":"x","delaySeconds":99999999999999999999999}`, "refuse"},
		{"delay and deliverAt", messagesPath, `{"body":"x","delaySeconds":5,"deliverAt":"2030-01-01T00:00:00Z"}`, "refuse"},
		{"deliverAt not a time", messagesPath, `{"body":"x","deliverAt":"tomorrow"}`, "refuse"},
		{"raw control character", messagesPath, "{\"body\":\"a\x01b\"}", "refuse"},
		{"batch empty", batchesPath, `{"messages":[]}`, "refuse"},
		{"batch of 101", batchesPath, `{"messages":[` + strings.TrimSuffix(strings.Repeat(`{"body":"m"},`, 101), ",") + `]}`, "refuse"},
		{"batch without messages", batchesPath, `{}`, "refuse"},
		{"batch messages null", batchesPath, `{"messages":null}`, "refuse"},
		{"batch member null", batchesPath, `{"messages":[null]}`, "refuse"},
		{"batch member with a sharding key", batchesPath, `{"messages":[{"body":"a","shardingKey":"s"}]}`, "refuse"},
		{"batch member with a delay", batchesPath, `{"messages":[{"body":"a","delaySeconds":5}]}`, "refuse"},
		{"batch member bad base64", batchesPath, `{"messages":[{"body":"x"},{"body":"a","encoding":"base64"}]}`, "refuse"},
		{"batch member without body", batchesPath, `{"messages":[{"tag":"t"}]}`, "refuse"},
		{"batch unknown member", batchesPath, `{"messages":[{"body":"a"}],"x":1}`, "refuse"},

		{"begin", beginPath, `{"producer":"` + prd + `","topic":"orders","body":"x"}`, "accept"},
		{"begin with everything", beginPath, `{"producer":"` + prd + `","topic":"Or-d_3","body":"aGk=","encoding":"base64","tag":"paid","keys":["o-1"],"properties":{"a":"b"},"checkAfterSeconds":30}`, "accept"},
		{"begin members in another order", beginPath, ` { "body" : "x" , "topic":"t", "checkAfterSeconds":86400, "producer":"` + prd + `"}`, "accept"},
		{"begin 127-byte topic", beginPath, `{"producer":"` + prd + `","topic":"` + long(127, "t") + `","body":"x"}`, "accept"},
		{"begin topic rmq_sys as a word inside", beginPath, `{"producer":"` + prd + `","topic":"a_RMQ_SYS_b","body":"x"}`, "accept"},
		{"begin reserved property name (the handler refuses it)", beginPath, `{"producer":"` + prd + `","topic":"t","body":"x","properties":{"TRAN_MSG":"1"}}`, "accept"},

		{"begin without producer", beginPath, `{"topic":"t","body":"x"}`, "refuse"},
		{"begin without topic", beginPath, `{"producer":"` + prd + `","body":"x"}`, "refuse"},
		{"begin without body", beginPath, `{"producer":"` + prd + `","topic":"t"}`, "refuse"},
		{"begin empty body", beginPath, `{"producer":"` + prd + `","topic":"t","body":""}`, "refuse"},
		{"begin producer without prefix", beginPath, `{"producer":"` + prd[4:] + `xxxx","topic":"t","body":"x"}`, "refuse"},
		{"begin producer in capitals", beginPath, `{"producer":"PRD_` + prd[4:] + `","topic":"t","body":"x"}`, "refuse"},
		{"begin producer with an underscore", beginPath, `{"producer":"prd_` + prd[5:] + `_","topic":"t","body":"x"}`, "refuse"},
		{"begin producer too short", beginPath, `{"producer":"` + prd[:29] + `","topic":"t","body":"x"}`, "refuse"},
		{"begin producer too long", beginPath, `{"producer":"` + prd + `A","topic":"t","body":"x"}`, "refuse"},
		{"begin producer null", beginPath, `{"producer":null,"topic":"t","body":"x"}`, "refuse"},
		{"begin topic empty", beginPath, `{"producer":"` + prd + `","topic":"","body":"x"}`, "refuse"},
		{"begin topic too long", beginPath, `{"producer":"` + prd + `","topic":"` + long(128, "t") + `","body":"x"}`, "refuse"},
		{"begin topic with a dot", beginPath, `{"producer":"` + prd + `","topic":"a.b","body":"x"}`, "refuse"},
		{"begin topic with a percent", beginPath, `{"producer":"` + prd + `","topic":"%RETRY%x","body":"x"}`, "refuse"},
		{"begin topic TBW102", beginPath, `{"producer":"` + prd + `","topic":"TBW102","body":"x"}`, "refuse"},
		{"begin topic DefaultCluster", beginPath, `{"producer":"` + prd + `","topic":"DefaultCluster","body":"x"}`, "refuse"},
		{"begin topic rmq_sys_ in any case", beginPath, `{"producer":"` + prd + `","topic":"rMq_SyS_trace","body":"x"}`, "refuse"},
		{"begin topic a number", beginPath, `{"producer":"` + prd + `","topic":7,"body":"x"}`, "refuse"},
		{"begin check after 0", beginPath, `{"producer":"` + prd + `","topic":"t","body":"x","checkAfterSeconds":0}`, "refuse"},
		{"begin check after too long", beginPath, `{"producer":"` + prd + `","topic":"t","body":"x","checkAfterSeconds":86401}`, "refuse"},
		{"begin check after a string", beginPath, `{"producer":"` + prd + `","topic":"t","body":"x","checkAfterSeconds":"5"}`, "refuse"},
		{"begin check after a fraction", beginPath, `{"producer":"` + prd + `","topic":"t","body":"x","checkAfterSeconds":1.5}`, "refuse"},
		{"begin bad base64", beginPath, `{"producer":"` + prd + `","topic":"t","body":"a","encoding":"base64"}`, "refuse"},
		{"begin tag with a bar", beginPath, `{"producer":"` + prd + `","topic":"t","body":"x","tag":"a|b"}`, "refuse"},
		{"begin unknown member", beginPath, `{"producer":"` + prd + `","topic":"t","body":"x","delaySeconds":5}`, "refuse"},
		{"begin sharding key", beginPath, `{"producer":"` + prd + `","topic":"t","body":"x","shardingKey":"s"}`, "refuse"},
		{"begin array", beginPath, `[]`, "refuse"},

		{"begin repeated member", beginPath, `{"producer":"` + prd + `","topic":"t","topic":"u","body":"x"}`, "decline"},
		{"begin escaped topic", beginPath, `{"producer":"` + prd + `","topic":"\u0074","body":"x"}`, "accept"},
		{"begin check after with an exponent", beginPath, `{"producer":"` + prd + `","topic":"t","body":"x","checkAfterSeconds":1e1}`, "decline"},

		{"deliverAt", messagesPath, `{"body":"x","deliverAt":"2030-01-01T00:00:00Z"}`, "decline"},
		{"repeated member", messagesPath, `{"body":"x","body":"y"}`, "decline"},
		{"escaped member name", messagesPath, `{"bod\u0079":"x"}`, "decline"},
		{"delay with an exponent", messagesPath, `{"body":"x","delaySeconds":1e1}`, "decline"},
		{"long non-ASCII tag", messagesPath, `{"body":"x","tag":"` + long(100, "é") + `"}`, "decline"},
		{"invalid UTF-8", messagesPath, "{\"body\":\"\xff\"}", "decline"},
	}
	accepts := contracttest.Accepts(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			kin := accepts(tc.path, body)
			got, fast := decoded(tc.path, body)
			switch tc.want {
			case "accept":
				if !kin || !fast {
					t.Fatalf("contract accepts: %v, decoder accepts: %v; want both", kin, fast)
				}
				if want := bound(t, tc.path, body); !reflect.DeepEqual(got, want) {
					t.Fatalf("decoded %+v, the generated handler binds %+v", got, want)
				}
				if a, b := send.FingerprintDecoded("POST", tc.path, body, got), send.Fingerprint("POST", tc.path, body); a != b {
					t.Fatalf("fingerprint from the typed request %s, from the body %s", a, b)
				}
			case "refuse":
				if kin || fast {
					t.Fatalf("contract accepts: %v, decoder accepts: %v; want both to refuse", kin, fast)
				}
			case "decline":
				if !kin || fast {
					t.Fatalf("contract accepts: %v, decoder accepts: %v; want the contract to accept and the decoder to decline", kin, fast)
				}
			}
		})
	}
}

// FuzzDecodeNeverAcceptsWhatTheContractRefuses: whatever the body (of a
// send, a batch or a transaction begin), a body the decoder accepts is one
// the contract accepts, bound the same way.
func FuzzDecodeNeverAcceptsWhatTheContractRefuses(f *testing.F) {
	for _, s := range []string{
		`{"body":"x"}`, `{"body":"x","tag":"t","keys":["k"],"properties":{"a":"b"},"shardingKey":"s","delaySeconds":3}`,
		`{"body":"aGk=","encoding":"base64"}`, `{"body":"\u00e9\"","keys":[]}`, `{"body":"x","properties":{}}`,
		`{"messages":[{"body":"a"},{"body":"Yg==","encoding":"base64"}]}`,
		`{"producer":"prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H","topic":"orders","body":"x","checkAfterSeconds":5,"tag":"t"}`,
	} {
		for _, path := range []uint8{0, 1, 2} {
			f.Add(path, []byte(s))
		}
	}
	accepts := contracttest.Accepts(f)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := []string{messagesPath, batchesPath, beginPath}[which%3]
		got, ok := decoded(path, body)
		if !ok {
			return
		}
		if !accepts(path, body) {
			t.Fatalf("the decoder accepts %q, the contract refuses it", body)
		}
		if want := bound(t, path, body); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decoded %+v, the generated handler binds %+v", body, got, want)
		}
		if a, b := send.FingerprintDecoded("POST", path, body, got), send.Fingerprint("POST", path, body); a != b {
			t.Fatalf("%q: fingerprint from the typed request %s, from the body %s", body, a, b)
		}
	})
}
