package fleet

import (
	"context"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/shipshape-dev/shipshape/internal/admission"
	"github.com/shipshape-dev/shipshape/internal/store"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// Snapshot is what the allow decisions (GET /api/v1/allowed and the
// admission webhook) hold in memory: every approval, linked to its index
// or platform images, and the digest each repository:tag was last submitted
// under.
type Snapshot struct {
	Approvals []admission.Approval
	// Tags maps "repository:tag" to the digest most recently submitted under it.
	Tags map[string]string
}

// Snapshot reads the approvals and tags in one query.
func (f *Fleet) Snapshot(ctx context.Context) (Snapshot, error) {
	rows, err := f.st.ViewRows(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{Tags: make(map[string]string, len(rows))}
	platforms := map[string][]string{}
	tagRow := map[string]store.Image{}
	for _, r := range rows {
		if r.IndexDigest != "" {
			platforms[r.IndexDigest] = append(platforms[r.IndexDigest], r.Digest)
		}
	}
	for _, r := range rows {
		if r.Tag != "" {
			key := NormalizeRepository(r.Repository) + ":" + r.Tag
			// The newest submission under a tag wins; an index wins over its own platform images.
			if cur, ok := tagRow[key]; !ok || r.UpdatedAt.After(cur.UpdatedAt) || r.Kind == "index" && !r.UpdatedAt.Before(cur.UpdatedAt) {
				tagRow[key] = r.Image
			}
		}
		if r.State == "" {
			continue
		}
		ref := r.Repository
		if r.Tag != "" {
			ref += ":" + r.Tag
		}
		a := admission.Approval{Digest: r.Digest, Ref: ref, State: admission.State(r.State), IndexDigest: r.IndexDigest,
			PlatformDigests: platforms[r.Digest], ValidUntil: r.ValidUntil, Signer: r.Signer, Reason: r.Reason}
		if !a.State.Admits() {
			a.FailingChecks = failingFromReason(r.Reason)
		}
		s.Approvals = append(s.Approvals, a)
	}
	for k, im := range tagRow {
		s.Tags[k] = im.Digest
	}
	return s, nil
}

// failingFromReason recovers the failing checks from a decision's reason
// ("fails: SEC-001 USER is not set; REL-001 ...").
func failingFromReason(reason string) []string {
	for _, p := range []string{"fails: ", "now fails ("} {
		if rest, ok := strings.CutPrefix(reason, p); ok {
			rest, _, _ = strings.Cut(rest, "); retires")
			return strings.Split(rest, "; ")
		}
	}
	return nil
}

// StateCounts counts images by approval state ("none": never decided).
func (f *Fleet) StateCounts(ctx context.Context) (map[string]int, error) {
	rows, err := f.st.ViewRows(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, r := range rows {
		s := r.State
		if s == "" {
			s = "none"
		}
		out[s]++
	}
	return out, nil
}

// DataSources describes the advisory data the fleet judges with.
func (f *Fleet) DataSources() []vulndb.SourceInfo {
	eng, done := f.engine()
	defer done()
	if db := eng.Vulns(); db != nil {
		return db.Sources()
	}
	return nil
}

// NormalizeRepository spells a repository the way go-containerregistry
// does ("nginx" is "index.docker.io/library/nginx"), so that tags submitted
// and asked about match; a name that does not parse is kept as it is.
func NormalizeRepository(repo string) string {
	r, err := name.NewRepository(repo)
	if err != nil {
		return repo
	}
	return r.Name()
}
