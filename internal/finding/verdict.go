package finding

// Verdict is the outcome for one image.
type Verdict struct {
	Pass bool `json:"pass"`
	// Vetoes are the veto findings, which fail the image whatever the scores.
	Vetoes []Finding `json:"vetoes,omitempty"`
	// Failing are the non-veto findings at or above the policy's fail-on severity.
	Failing []Finding `json:"failing,omitempty"`
	// Scores per dimension (0-100); dimensions with no check run are absent.
	Scores map[Dimension]int `json:"scores"`
	Score  int               `json:"score"`
	Grade  string            `json:"grade"`
	FailOn string            `json:"fail_on"`
}

// Waiver is a finding an exception took out of the verdict. Reports list
// every waiver: nothing is hidden silently.
type Waiver struct {
	Finding Finding `json:"finding"`
	Reason  string  `json:"reason"`
	Expires string  `json:"expires,omitempty"`
	// Rule says which exception it was ("exceptions[2]: check SEC-003, path /usr/bin/su").
	Rule string `json:"exception"`
}

// ExpiredException is an exception past its date, no longer applied.
type ExpiredException struct {
	Rule    string `json:"exception"`
	Reason  string `json:"reason"`
	Expired string `json:"expired"`
}

// Waivers is what the exceptions did on one image.
type Waivers struct {
	Applied []Waiver           `json:"applied,omitempty"`
	Expired []ExpiredException `json:"expired,omitempty"`
}
