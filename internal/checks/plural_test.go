package checks

import "testing"

func TestPlural(t *testing.T) {
	if got := plural(1, "log line"); got != "1 log line" {
		t.Error(got)
	}
	if got := plural(3, "log line"); got != "3 log lines" {
		t.Error(got)
	}
}
