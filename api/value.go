package api

// Value is what an optional field of the contract holds: *p, or the zero
// value when the client left the field out.
func Value[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
