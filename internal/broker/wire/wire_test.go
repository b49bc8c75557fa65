package wire_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/zeroloss/zeroloss/internal/broker/wire"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	req := wire.Request(200050, 7, map[string]string{"topic": "orders"})
	if err := wire.WriteFrame(&buf, req, []byte("body")); err != nil {
		t.Fatal(err)
	}
	got, err := wire.ReadFrame(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != 200050 || got.Opaque != 7 || got.ExtFields["topic"] != "orders" || string(got.Body) != "body" {
		t.Fatalf("read back %+v", got)
	}
}

func TestReadFrameRefusesBadFrames(t *testing.T) {
	frame := func(total, header uint32, serial byte) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint32(b[0:4], total)
		binary.BigEndian.PutUint32(b[4:8], header)
		b[4] = serial
		return append(b, bytes.Repeat([]byte{'{'}, 16)...)
	}
	for name, b := range map[string][]byte{
		"header longer than the frame": frame(4, 10, 0),
		"frame over the limit":         frame(65<<20, 2, 0),
		"not JSON serialisation":       frame(12, 2, 1),
		"header not JSON":              frame(12, 8, 0),
		"truncated":                    {0, 0},
	} {
		if _, err := wire.ReadFrame(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDecodeFastJSON(t *testing.T) {
	var v struct {
		BrokerAddrs map[string]string `json:"brokerAddrs"`
	}
	if err := wire.DecodeFastJSON([]byte(`{"brokerAddrs":{0:"a:1",1:"b:2"}}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.BrokerAddrs["0"] != "a:1" || v.BrokerAddrs["1"] != "b:2" {
		t.Fatalf("decoded %+v", v)
	}
}

// BenchmarkFrame writes a half-message request and reads a send answer, as
// a transaction's begin does.
func BenchmarkFrame(b *testing.B) {
	ext := map[string]string{"producerGroup": "zeroloss-tx", "topic": "orders", "queueId": "3", "sysFlag": "4",
		"bornTimestamp": "1764165600000", "flag": "0", "properties": "UNIQ_KEY\x0101ABCDEF\x02TRAN_MSG\x01true\x02PGROUP\x01zeroloss-tx\x02",
		"reconsumeTimes": "0", "unitMode": "false", "batch": "false", "bname": "broker-a"}
	answer := []byte(`{"code":0,"extFields":{"msgId":"7F000001000029D50000000000001234","queueId":"3","queueOffset":"42","transactionId":"7F0000010001ABCD"},"flag":1,"language":"JAVA","opaque":12,"serializeTypeCurrentRPC":"JSON","version":475}`)
	var in bytes.Buffer
	lens := make([]byte, 8)
	binary.BigEndian.PutUint32(lens[0:4], uint32(4+len(answer)))
	binary.BigEndian.PutUint32(lens[4:8], uint32(len(answer)))
	frame := append(lens, answer...)
	body := bytes.Repeat([]byte("x"), 1024)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := wire.WriteFrame(io.Discard, wire.Request(10, int32(i), ext), body); err != nil {
			b.Fatal(err)
		}
		in.Reset()
		in.Write(frame)
		if _, err := wire.ReadFrame(&in); err != nil {
			b.Fatal(err)
		}
	}
}
