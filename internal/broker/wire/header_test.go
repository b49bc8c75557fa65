package wire_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/zeroloss/zeroloss/internal/broker/wire"
)

// viaJSON is cmd as encoding/json writes and reads it back.
func viaJSON(t testing.TB, cmd wire.Command) wire.Command {
	t.Helper()
	b, err := json.Marshal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	var out wire.Command
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHeaderCodecAgreesWithEncodingJSON: a header written by the codec
// reads back (by encoding/json) as encoding/json's own would, and the
// codec reads encoding/json's headers and the brokers' as encoding/json
// does.
func TestHeaderCodecAgreesWithEncodingJSON(t *testing.T) {
	cmds := []struct {
		name string
		cmd  wire.Command
	}{
		{"request", wire.Request(10, 7, map[string]string{"topic": "orders", "queueId": "3"})},
		{"no fields", wire.Command{}},
		{"large code", wire.Request(200050, -1, nil)},
		{"extremes", wire.Command{Code: -1 << 63, Version: 1<<63 - 1, Opaque: -1 << 31, Flag: 1<<31 - 1}},
		{"properties separators", wire.Request(10, 1, map[string]string{"properties": "UNIQ_KEY\x01AB\x02TAGS\x01t\x02"})},
		{"escapes", wire.Command{Remark: "a \"quoted\" \\ path\n\r\t\x00\x1f", ExtFields: map[string]string{"k\"": "v\\"}}},
		{"unicode", wire.Command{Remark: "héllo, 世界, \u2028 \U0001F600", ExtFields: map[string]string{"ключ": "значение"}}},
		{"invalid UTF-8", wire.Command{Remark: "a\xffb\xc3", ExtFields: map[string]string{"\xfe": "\x80"}}},
		{"HTML characters", wire.Command{Remark: "<a href='x'>&</a>"}},
		{"empty ext", wire.Command{Code: 1, ExtFields: map[string]string{}}},
	}
	for _, tc := range cmds {
		t.Run(tc.name, func(t *testing.T) {
			want := viaJSON(t, tc.cmd)
			var got wire.Command
			if err := json.Unmarshal(wire.AppendHeader(nil, &tc.cmd), &got); err != nil {
				t.Fatalf("the codec's header is not JSON: %v: %s", err, wire.AppendHeader(nil, &tc.cmd))
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("codec header reads back %+v, encoding/json's %+v", got, want)
			}
			b, _ := json.Marshal(tc.cmd)
			checkParse(t, b)
		})
	}
	for name, h := range map[string]string{
		"broker answer":       `{"code":0,"extFields":{"msgId":"7F000001000029D5","queueId":"1","queueOffset":"42","transactionId":"7F00AB"},"flag":1,"language":"JAVA","opaque":12,"serializeTypeCurrentRPC":"JSON","version":475}`,
		"broker error":        `{"code":17,"flag":1,"language":"JAVA","opaque":3,"remark":"topic[x] not exist, apply first please! https://rocketmq.apache.org/docs/bestPractice/06FAQ","serializeTypeCurrentRPC":"JSON","version":475}`,
		"check-back request":  `{"code":39,"extFields":{"commitLogOffset":"1234","tranStateTableOffset":"5","msgId":"AB","transactionId":"CD"},"flag":0,"language":"JAVA","opaque":99,"serializeTypeCurrentRPC":"JSON","version":475}`,
		"spaces and nulls":    " { \"code\" : 2 , \"remark\" : null , \"extFields\" : null , \"other\" : [1, {\"a\": true}, null, \"s\"] } ",
		"escaped remark":      `{"code":1,"remark":"line\nbreak"}`,
		"fraction":            `{"code":1.5}`,
		"exponent":            `{"code":1e3}`,
		"key in another case": `{"Code":5}`,
		"int32 overflow":      `{"opaque":2147483648}`,
		"leading zero":        `{"code":01}`,
		"trailing garbage":    `{"code":1}x`,
		"null ext value":      `{"extFields":{"a":null}}`,
		"number ext value":    `{"extFields":{"a":1}}`,
		"duplicate ext":       `{"extFields":{"a":"1"},"extFields":{"b":"2"}}`,
		"not an object":       `null`,
		"empty object":        `{}`,
	} {
		t.Run(name, func(t *testing.T) { checkParse(t, []byte(h)) })
	}
}

// TestHeaderCodecReadsTheBrokersHeaders: the headers brokers answer with,
// and those the codec writes, take the codec's way (not encoding/json's).
func TestHeaderCodecReadsTheBrokersHeaders(t *testing.T) {
	req := wire.Request(10, 7, map[string]string{"topic": "orders", "queueId": "3"})
	for name, h := range map[string][]byte{
		"broker answer":      []byte(`{"code":0,"extFields":{"msgId":"7F000001000029D5","queueId":"1","queueOffset":"42"},"flag":1,"language":"JAVA","opaque":12,"serializeTypeCurrentRPC":"JSON","version":475}`),
		"check-back request": []byte(`{"code":39,"extFields":{"commitLogOffset":"1234","tranStateTableOffset":"5"},"flag":0,"language":"JAVA","opaque":99,"serializeTypeCurrentRPC":"JSON","version":475}`),
		"the codec's own":    wire.AppendHeader(nil, &req),
	} {
		var cmd wire.Command
		if !wire.ParseHeader(h, &cmd) {
			t.Errorf("%s: declined: %s", name, h)
		}
	}
}

// checkParse fails t when the codec accepts header but decodes it unlike
// encoding/json, or declines a header encoding/json wrote.
func checkParse(t testing.TB, header []byte) {
	t.Helper()
	var got wire.Command
	if !wire.ParseHeader(header, &got) {
		return // encoding/json decides
	}
	var want wire.Command
	if err := json.Unmarshal(header, &want); err != nil {
		t.Fatalf("the codec accepts %q, encoding/json refuses it: %v", header, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: the codec reads %+v, encoding/json %+v", header, got, want)
	}
}

// FuzzHeaderCodec: whatever the codec accepts, it decodes as encoding/json
// does; whatever it writes, encoding/json reads as its own header.
func FuzzHeaderCodec(f *testing.F) {
	for _, s := range []string{
		`{"code":0,"extFields":{"msgId":"7F","queueId":"1"},"flag":1,"language":"JAVA","opaque":12,"version":475}`,
		`{"code":-3,"remark":null,"x":[{"y":false}]}`, `{"opaque":-2147483648}`, `{"Flag":1}`, "{}",
	} {
		f.Add([]byte(s), "k", "v\x01")
	}
	f.Fuzz(func(t *testing.T, header []byte, k, v string) {
		checkParse(t, header)
		cmd := wire.Command{Code: len(header), Remark: v, ExtFields: map[string]string{k: v}}
		var got wire.Command
		if err := json.Unmarshal(wire.AppendHeader(nil, &cmd), &got); err != nil {
			t.Fatalf("the codec's header is not JSON: %v", err)
		}
		if want := viaJSON(t, cmd); !reflect.DeepEqual(got, want) {
			t.Fatalf("codec header reads back %+v, encoding/json's %+v", got, want)
		}
	})
}
