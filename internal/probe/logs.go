package probe

import (
	"context"
	"sort"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// observeLogs counts the lines on stdout/stderr at startup and after a
// request, and finds log files written inside the container, checking
// whether they grow.
func (p *prober) observeLogs(ctx context.Context, id string) *LogObs {
	l := &LogObs{RequestLines: -1}
	count := func() int {
		o, e, err := p.e.logs(ctx, id, "all")
		if err != nil {
			return 0
		}
		return len(o) + len(e)
	}
	l.StartupLines = count()
	if p.o.Port > 0 {
		get(ctx, p.url(p.o.SmokePath))
		sleep(ctx, 700*time.Millisecond)
		l.RequestLines = count() - l.StartupLines
	}
	sizes := p.logFileSizes(ctx, id)
	if len(sizes) == 0 {
		return l
	}
	if p.o.Port > 0 {
		for i := 0; i < 5; i++ {
			get(ctx, p.url(p.o.SmokePath))
		}
	}
	sleep(ctx, time.Second)
	later := p.logFileSizes(ctx, id)
	for path, size := range later {
		l.Files = append(l.Files, LogFile{Path: path, Size: size, Growing: size > sizes[path]})
	}
	sort.Slice(l.Files, func(i, j int) bool { return l.Files[i].Path < l.Files[j].Path })
	return l
}

// logFileSizes returns the sizes of log-like files the container added or changed.
func (p *prober) logFileSizes(ctx context.Context, id string) map[string]int64 {
	diff, err := p.e.cli.ContainerDiff(ctx, id, client.ContainerDiffOptions{})
	if err != nil {
		return nil
	}
	out := map[string]int64{}
	for _, c := range diff.Changes {
		if c.Kind == container.ChangeDelete || !logFile(c.Path) {
			continue
		}
		st, err := p.e.cli.ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: c.Path})
		if err != nil || st.Stat.Mode.IsDir() || st.Stat.Mode&0o170000 != 0 && !st.Stat.Mode.IsRegular() {
			continue
		}
		if st.Stat.Mode.IsRegular() {
			out[c.Path] = st.Stat.Size
		}
	}
	return out
}
