package pop

// Internal parsers, exported to the external tests.
var (
	SplitMessages   = splitMessages
	ParseOffsetInfo = parseOffsetInfo
)

// EncodeBatchAck is the body of a BATCH_ACK_MESSAGE request.
var EncodeBatchAck = encodeBatchAck
