package vulndb

import (
	"fmt"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// Score is the severity shipshape settled on for a vulnerability.
type Score struct {
	// Value is the CVSS base score, or the lower bound of the rating's band
	// when the rating comes from a non-CVSS field (see Basis); 0 is unknown.
	Value float64 `json:"score"`
	// Vector is the CVSS vector the score was computed from, if any.
	Vector string `json:"vector,omitempty"`
	// Rating is critical, high, medium, low, none or unknown.
	Rating string `json:"rating"`
	// Basis says where the severity came from: "CVSS v3.1", "CVSS v4.0",
	// "GHSA severity (no CVSS vector)", "Debian urgency (no CVSS vector)".
	Basis string `json:"basis"`
	// From is the advisory id whose data gave the severity.
	From string `json:"from,omitempty"`
}

// IsCVSS says the score was computed from a CVSS vector.
func (s Score) IsCVSS() bool { return s.Vector != "" }

// cvssScore computes the base score of one OSV severity entry.
func cvssScore(s Severity) (Score, error) {
	v := strings.TrimSpace(s.Score)
	out := Score{Vector: v}
	switch {
	case s.Type == "CVSS_V3" && strings.HasPrefix(v, "CVSS:3.1/"):
		c, err := gocvss31.ParseVector(v)
		if err != nil {
			return Score{}, fmt.Errorf("CVSS v3.1 vector %.80q: %w", v, err)
		}
		out.Value, out.Basis = c.BaseScore(), "CVSS v3.1"
	case s.Type == "CVSS_V3" && strings.HasPrefix(v, "CVSS:3.0/"):
		c, err := gocvss30.ParseVector(v)
		if err != nil {
			return Score{}, fmt.Errorf("CVSS v3.0 vector %.80q: %w", v, err)
		}
		out.Value, out.Basis = c.BaseScore(), "CVSS v3.0"
	case s.Type == "CVSS_V4":
		c, err := gocvss40.ParseVector(v)
		if err != nil {
			return Score{}, fmt.Errorf("CVSS v4.0 vector %.80q: %w", v, err)
		}
		out.Value, out.Basis = c.Score(), "CVSS v4.0"
	case s.Type == "CVSS_V2":
		c, err := gocvss20.ParseVector(v)
		if err != nil {
			return Score{}, fmt.Errorf("CVSS v2.0 vector %.80q: %w", v, err)
		}
		out.Value, out.Basis = c.BaseScore(), "CVSS v2.0"
	default:
		return Score{}, errNotCVSS
	}
	out.Rating = RatingOf(out.Value)
	return out, nil
}

var errNotCVSS = fmt.Errorf("not a CVSS vector")

// bestCVSS returns the highest base score among the CVSS entries, as
// osv-scanner does; bad vectors are returned as notes.
func bestCVSS(sevs []Severity) (Score, []Note) {
	var best Score
	var notes []Note
	for _, s := range sevs {
		sc, err := cvssScore(s)
		if err == errNotCVSS {
			continue
		}
		if err != nil {
			notes = append(notes, Note{Kind: "invalid CVSS vector (ignored)", Detail: err.Error()})
			continue
		}
		if best.Vector == "" || sc.Value > best.Value {
			best = sc
		}
	}
	return best, notes
}

// RatingOf maps a CVSS score to its qualitative rating (the same bands in
// CVSS v3 and v4).
func RatingOf(score float64) string {
	switch {
	case score >= 9.0:
		return "critical"
	case score >= 7.0:
		return "high"
	case score >= 4.0:
		return "medium"
	case score > 0:
		return "low"
	}
	return "none"
}

// bandFloor is the lowest CVSS score of a rating's band, used as the score
// of a severity that comes from a rating without a vector.
var bandFloor = map[string]float64{"critical": 9.0, "high": 7.0, "medium": 4.0, "low": 0.1}

// fromRating turns a non-CVSS rating (GHSA's database_specific.severity,
// Debian's urgency, Ubuntu's priority) into a Score; ok is false when the
// rating says nothing about severity ("not yet assigned", "unimportant" is
// low).
func fromRating(rating, basis, id string) (Score, bool) {
	r := strings.ToLower(strings.TrimSpace(rating))
	r = strings.TrimSuffix(r, "*") // Debian marks some urgencies "medium*"
	switch r {
	case "moderate":
		r = "medium"
	case "unimportant", "negligible":
		r = "low"
	case "critical", "high", "medium", "low":
	default:
		return Score{}, false
	}
	return Score{Value: bandFloor[r], Rating: r, Basis: basis + " " + strings.ToLower(rating) + " (no CVSS vector)", From: id}, true
}

// VendorSeverity is a distribution's own rating of a vulnerability for one
// of its packages: Debian's urgency from the security tracker
// (affected[].ecosystem_specific.urgency in OSV's Debian records).
type VendorSeverity struct {
	// Source is the distribution ("Debian").
	Source string `json:"source"`
	// Value is the rating as the data spells it ("unimportant", "low", "medium*").
	Value string `json:"value"`
	// Rating is its qualitative rating: low, medium, high or critical.
	Rating string `json:"rating"`
}

// debianUrgency reads Debian's urgency as Trivy reads it for its vendor
// severity: unimportant (the tracker's "not a security problem for Debian
// users") and end-of-life count as low; "not yet assigned" says nothing.
func debianUrgency(u string) (VendorSeverity, bool) {
	r := strings.ToLower(strings.TrimSpace(u))
	r = strings.TrimRight(r, "*") // "medium*", "low**": urgencies not yet reviewed
	switch r {
	case "unimportant", "end-of-life", "low":
		r = "low"
	case "medium", "high", "critical":
	default:
		return VendorSeverity{}, false
	}
	return VendorSeverity{Source: "Debian", Value: strings.TrimSpace(u), Rating: r}, true
}

// ratingRank orders ratings: critical first, unknown and none last.
func ratingRank(r string) int {
	switch r {
	case "critical":
		return 5
	case "high":
		return 4
	case "medium":
		return 3
	case "low":
		return 2
	case "unknown":
		return 1
	}
	return 0
}
