package pop

// Internal parsers, exported to the external tests.
var (
	SplitMessages   = splitMessages
	ParseOffsetInfo = parseOffsetInfo
)
