package probe

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// upgrade runs baseline -> candidate -> baseline on the same port and named
// volume, checking health and a smoke request at each step.
func (p *prober) upgrade(ctx context.Context) *UpgradeObs {
	u := &UpgradeObs{Volume: p.volumePath()}
	vol, err := p.e.volume(ctx)
	if err != nil {
		u.Steps = append(u.Steps, UpgradeStep{Name: "create volume", Detail: err.Error()})
		return u
	}
	for _, st := range []struct{ name, image string }{
		{"start baseline", p.o.Baseline},
		{"upgrade to candidate", p.o.Image},
		{"roll back to baseline", p.o.Baseline},
	} {
		step := p.upgradeStep(ctx, st.name, st.image, vol)
		u.Steps = append(u.Steps, step)
		if !step.OK || ctx.Err() != nil {
			break
		}
	}
	return u
}

func (p *prober) upgradeStep(ctx context.Context, name, image, vol string) UpgradeStep {
	s := UpgradeStep{Name: name, Image: image}
	start := time.Now()
	id, err := p.e.start(ctx, spec{Image: image, Volume: vol, VolumeAt: p.volumePath()})
	if err != nil {
		s.Detail = err.Error()
		return s
	}
	defer func() {
		p.stop(ctx, id, "SIGTERM")
		p.e.remove(ctx, id)
	}()
	h := p.waitHealthy(ctx, id, p.healthMethod(image))
	s.Duration = time.Since(start)
	switch {
	case h.Method != "none" && !h.Healthy:
		s.Detail = "not healthy: " + h.Status
		return s
	case p.o.Port > 0:
		code, err := get(ctx, p.url(p.o.SmokePath))
		if err != nil || code >= 500 {
			s.Detail = fmt.Sprintf("smoke request %s: HTTP %d %v", p.o.SmokePath, code, errString(err))
			return s
		}
		s.Detail = fmt.Sprintf("healthy (%s) in %s, smoke request HTTP %d", h.Method, h.After.Round(time.Millisecond), code)
	default:
		s.Detail = "started (no port to check)"
	}
	s.OK = true
	return s
}

// volumePath is where the shared volume is mounted: the candidate's first
// VOLUME, else /data.
func (p *prober) volumePath() string {
	if p.o.Config != nil && len(p.o.Config.Config.Volumes) > 0 {
		var vs []string
		for v := range p.o.Config.Config.Volumes {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		return vs[0]
	}
	return "/data"
}
