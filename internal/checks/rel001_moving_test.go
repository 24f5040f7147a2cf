package checks

import "testing"

func TestMovingTag(t *testing.T) {
	for tag, want := range map[string]bool{
		"1": true, "1.25": true, "v3": true, "3.12-slim": true, "2024": true, "stable": true, "bookworm": true,
		"1.25.3": false, "9717656": false, "20241206": false, "a1b2c3d": false, "1.4.2-r1": false,
	} {
		if got := movingTag.MatchString(tag); got != want {
			t.Errorf("%q: moving %v, want %v", tag, got, want)
		}
	}
}
