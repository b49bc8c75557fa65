package wire

// AppendHeader and ParseHeader expose the header codec to the tests.
var (
	AppendHeader = appendHeader
	ParseHeader  = parseHeader
)
