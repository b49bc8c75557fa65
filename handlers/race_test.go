//go:build race

package handlers_test

// raceEnabled: the race detector allocates on its own account.
const raceEnabled = true
