package broker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/zeroloss/zeroloss/internal/broker"
)

func TestBrokerAnswersAreClassified(t *testing.T) {
	// rocketmq-client-go reports a broker's error answer as
	// fmt.Errorf("CODE: %d, DESC: %s", code, remark).
	answer := func(code int, remark string) error { return fmt.Errorf("CODE: %d, DESC: %s", code, remark) }
	tests := []struct {
		name                  string
		err                   error
		rejected, memberFault bool
	}{
		{"MESSAGE_ILLEGAL", answer(13, "the message is illegal, maybe msg body or properties length not matched"), true, true},
		{"INVALID_PARAMETER", answer(29, "x"), true, true},
		{"SYSTEM_ERROR (a batch with an oversized member)", answer(1, "java.lang.IllegalArgumentException: newPosition < 0"), false, true},
		{"wrapped twice", fmt.Errorf("%w: send to t: %w", broker.ErrUnconfirmed, answer(13, "x")), true, true},
		{"SYSTEM_BUSY", answer(2, "[PC_SYNCHRONIZED]broker busy"), false, false},
		{"SERVICE_NOT_AVAILABLE", answer(14, "disk full"), false, false},
		{"NO_PERMISSION", answer(16, "x"), false, false},
		{"TOPIC_NOT_EXIST", answer(17, "x"), false, false},
		{"timeout", context.DeadlineExceeded, false, false},
		{"transport", errors.New("dial tcp 127.0.0.1:10911: connect: connection refused"), false, false},
		{"code only in the middle", errors.New("send: CODE: 13, DESC: x"), false, false},
		{"not a number", errors.New("CODE: x, DESC: y"), false, false},
		{"nil", nil, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := broker.Rejected(tc.err); got != tc.rejected {
				t.Errorf("rejected = %v, want %v", got, tc.rejected)
			}
			if got := broker.MemberFault(tc.err); got != tc.memberFault {
				t.Errorf("memberFault = %v, want %v", got, tc.memberFault)
			}
		})
	}
}
