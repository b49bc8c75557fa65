package pop

import (
	"errors"
	"fmt"

	"github.com/zeroloss/zeroloss/internal/broker/wire"
)

// RocketMQ remoting request codes (RequestCode.java).
const (
	codeGetRouteInfoByTopic      = 105
	codeUpdateAndCreateSubsGroup = 200
	codePopMessage               = 200050
	codeAckMessage               = 200051
	codeChangeInvisibleTime      = 200053
	codeBatchAckMessage          = 200151
)

// RocketMQ response codes (ResponseCode.java).
const (
	respSuccess            = 0
	respTopicNotExist      = 17
	respPullNotFound       = 19
	respSubscriptionAbsent = 26
	respNoMessage          = 208
	respPollingFull        = 209
	respPollingTimeout     = 210
)

// command is a remoting frame's header and body.
type command = wire.Command

// RemoteError is a response code other than success from a name server or
// broker.
type RemoteError struct {
	Code   int
	Remark string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("pop: remote code %d: %s", e.Code, e.Remark)
}

// Is matches ErrGroupNotFound and ErrTopicNotFound by response code.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrGroupNotFound:
		return e.Code == respSubscriptionAbsent
	case ErrTopicNotFound:
		return e.Code == respTopicNotExist
	}
	return false
}

// ErrGroupNotFound is returned when a broker does not know the consumer
// group (it runs with autoCreateSubscriptionGroup=false): EnsureGroup, then
// pop again.
var ErrGroupNotFound = errors.New("pop: subscription group not found")
