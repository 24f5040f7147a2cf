package secrets

import (
	"runtime"
	"sync"
)

// Pool runs scans on other goroutines while the layer walk goes on, with a
// bound on the bytes held by queued and running jobs. Workers start on
// demand and exit when the queue is empty, so a pool whose Wait is never
// called (a walk that failed) leaves no goroutine behind.
type Pool struct {
	mu       sync.Mutex
	cond     *sync.Cond
	queue    []func()
	sizes    []int64
	running  int
	workers  int
	inflight int64
	limit    int64
	wg       sync.WaitGroup
}

// NewPool makes a pool of at most workers goroutines (GOMAXPROCS when <= 0)
// holding at most limit bytes of jobs at once.
func NewPool(workers int, limit int64) *Pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Pool{workers: workers, limit: limit}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// Submit queues job, which holds size bytes until it returns. It blocks while
// the pool holds more than its limit (a job larger than the limit waits for
// an empty pool, then runs alone).
func (p *Pool) Submit(size int64, job func()) {
	p.mu.Lock()
	for p.inflight > 0 && p.inflight+size > p.limit {
		p.cond.Wait()
	}
	p.inflight += size
	p.queue = append(p.queue, job)
	p.sizes = append(p.sizes, size)
	if p.running < p.workers {
		p.running++
		p.wg.Add(1)
		go p.work()
	}
	p.mu.Unlock()
}

func (p *Pool) work() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.running--
			p.mu.Unlock()
			return
		}
		job, size := p.queue[0], p.sizes[0]
		p.queue[0] = nil
		p.queue, p.sizes = p.queue[1:], p.sizes[1:]
		p.mu.Unlock()
		job()
		p.mu.Lock()
		p.inflight -= size
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// Wait returns when every submitted job has run.
func (p *Pool) Wait() { p.wg.Wait() }
