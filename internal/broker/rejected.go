package broker

import (
	"errors"
	"strconv"
	"strings"
)

// Broker response codes (RocketMQ 5.3.3 ResponseCode) that refuse a message
// for what it is: sending it again cannot succeed.
const (
	// codeMessageIllegal: topic too long, properties over Short.MAX_VALUE
	// (msgContentCheck), PROPERTIES_SIZE_EXCEEDED or a body over
	// maxMessageSize in the store, a timer beyond timerMaxDelaySec, a batch
	// to a retry topic.
	codeMessageIllegal = 13
	// codeInvalidParameter: a request field the broker cannot accept.
	codeInvalidParameter = 29
)

// rejected reports whether err is the broker's permanent refusal of a
// message. rocketmq-client-go reports a broker's error answer only as text,
// "CODE: <code>, DESC: <remark>" (rmqClient.ProcessSendResponse), so the code
// is read from there; a transport error or timeout never matches, so a
// message that may have been stored is never reported as rejected.
func rejected(err error) bool {
	code, ok := responseCode(err)
	return ok && (code == codeMessageIllegal || code == codeInvalidParameter)
}

// codeSystemError is RemotingSysResponseCode.SYSTEM_ERROR: among others,
// what a 5.3.3 broker answers to a batch holding a member whose properties
// are over Short.MAX_VALUE (an IllegalArgumentException while decoding it).
const codeSystemError = 1

// memberFault reports whether err is a broker's answer to a batch request
// that one member may have caused (MESSAGE_ILLEGAL, INVALID_PARAMETER,
// SYSTEM_ERROR): the broker refused the request and stored none of it.
// Answers about the broker itself (busy, not available, no permission,
// topic missing) and transport errors or timeouts (the batch may be stored)
// do not match.
func memberFault(err error) bool {
	code, ok := responseCode(err)
	return ok && (code == codeMessageIllegal || code == codeInvalidParameter || code == codeSystemError)
}

// responseCode finds the broker's response code in a remoteError (the
// project's own remoting) or a client error, or any error they wrap.
func responseCode(err error) (int, bool) {
	if err == nil {
		return 0, false
	}
	if re := (*remoteError)(nil); errors.As(err, &re) {
		return re.Code, true
	}
	if rest, ok := strings.CutPrefix(err.Error(), "CODE: "); ok {
		if num, _, ok := strings.Cut(rest, ","); ok {
			if code, err := strconv.Atoi(strings.TrimSpace(num)); err == nil {
				return code, true
			}
		}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return responseCode(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if code, ok := responseCode(e); ok {
				return code, true
			}
		}
	}
	return 0, false
}
