//go:build race

package server_test

// raceEnabled: the race detector slows the store down about 100 times, so
// the large-fleet test uses a smaller fleet under it.
const raceEnabled = true
