package idempotency

// RoundTrips is how many round trips to Redis the store made.
func (s *Store) RoundTrips() int64 { return s.pipe.RoundTrips() }
