package fleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// OpenEngine builds an engine on the advisory and end-of-life data as they
// are now; release closes what it opened.
type OpenEngine func() (e *engine.Engine, release func(), err error)

// ReloadData opens a new engine and, when its advisory data differs from the
// current engine's, swaps it in and enqueues the re-judging of every stored
// image whose packages the change names (one job per data version, run by
// whichever worker takes it). It reports whether the data changed.
func (f *Fleet) ReloadData(ctx context.Context, open OpenEngine) (bool, error) {
	e, release, err := open()
	if err != nil {
		return false, err
	}
	cur, done := f.engine()
	oldVersion, newVersion := DataVersion(cur.Vulns()), DataVersion(e.Vulns())
	var since map[string]time.Time
	all := false
	if db := cur.Vulns(); db != nil {
		since = db.Newest()
	} else {
		// No data before: images may have failed for want of it.
		all = e.Vulns() != nil
	}
	done()
	if oldVersion == newVersion {
		if release != nil {
			release()
		}
		return false, nil
	}
	f.SetEngine(e, release)
	f.log.Info("advisory data changed: re-judging the images it touches", "version", newVersion)
	err = f.st.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Enqueue(AdvisoriesArgs{Version: newVersion, Since: since, All: all}, store.OnBulk(365*24*time.Hour)); err != nil {
			return err
		}
		_, err := tx.AppendEvent(store.Event{Actor: "system", Action: "data.updated", Subject: "advisories",
			Details: []byte(fmt.Sprintf(`{"version":%q}`, newVersion))})
		return err
	})
	return true, err
}

// WatchData reloads the data whenever a file of dir (the advisory database
// directory) changes, checking every interval until ctx ends.
func (f *Fleet) WatchData(ctx context.Context, dir string, interval time.Duration, open OpenEngine) {
	last := dirStamp(dir)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		stamp := dirStamp(dir)
		if stamp == last {
			continue
		}
		// Wait for the writer to finish: the stamp must hold still for one tick.
		time.Sleep(min(interval, 2*time.Second))
		if dirStamp(dir) != stamp {
			continue
		}
		if _, err := f.ReloadData(ctx, open); err != nil {
			f.log.Warn("reloading the advisory data", "dir", dir, "err", err)
			continue
		}
		last = stamp
	}
}

// dirStamp summarises the names, sizes and modification times of dir's files.
func dirStamp(dir string) string {
	entries, _ := filepath.Glob(filepath.Join(dir, "*"))
	sort.Strings(entries)
	s := ""
	for _, p := range entries {
		if fi, err := os.Stat(p); err == nil {
			s += fmt.Sprintf("%s:%d:%d;", filepath.Base(p), fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return s
}
