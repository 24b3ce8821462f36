package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"example.com/radix-tutorial/tools/internal/bench"
)

// sample is what one round measured of one target. Durations are in
// seconds and memory in bytes, ready for bench.Summarize.
type sample struct {
	perSecond, p50, p99 float64
	cpuPerRequest       float64 // CPU time of all its processes, per answered request
	idle, peak          float64 // resident memory after start-up, and its peak under load
	startup             float64
	clientBusy          float64 // share of the load generator's CPUs it kept busy
	failures            int
	firstFail           string
}

// idleWait lets a fresh server settle after its first answer before its
// idle memory is read.
const idleWait = 500 * time.Millisecond

// measure runs every round. Each round visits every target once, starting
// one place further along the list than the round before, so that no
// server always runs right after the same neighbour.
func (b *runner) measure(ctx context.Context, targets []target) (map[string][]sample, error) {
	results := make(map[string][]sample)
	for round := range b.opts.rounds {
		for i := range targets {
			t := targets[(i+round)%len(targets)]
			b.logf("round %d/%d: %s", round+1, b.opts.rounds, t.name)
			s, err := b.once(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("%s, round %d: %w", t.name, round+1, err)
			}
			results[t.name] = append(results[t.name], s)
		}
	}
	return results, nil
}

func (b *runner) once(ctx context.Context, t target) (s sample, err error) {
	inst, err := t.start(ctx)
	if err != nil {
		return s, err
	}
	defer func() {
		if stopErr := inst.stop(); err == nil {
			err = stopErr
		}
	}()
	s.startup = inst.startup.Seconds()

	select {
	case <-time.After(idleWait):
	case <-ctx.Done():
		return s, ctx.Err()
	}
	mem, err := bench.ReadMemory(inst.main.pid())
	if err != nil {
		return s, inst.exitedOr(err)
	}
	s.idle = float64(mem.RSS)

	cpuBefore, err := cpuTime(inst.all)
	if err != nil {
		return s, err
	}
	clientBefore, err := bench.ReadCPU(os.Getpid())
	if err != nil {
		return s, err
	}
	load := bench.Load{URL: inst.url, Header: inst.header, Connections: b.opts.connections, Duration: b.opts.duration}
	r, err := load.Run(ctx)
	if err != nil {
		return s, err
	}
	cpuAfter, err := cpuTime(inst.all)
	if err != nil {
		return s, err
	}
	clientAfter, err := bench.ReadCPU(os.Getpid())
	if err != nil {
		return s, err
	}
	if mem, err = bench.ReadMemory(inst.main.pid()); err != nil {
		return s, inst.exitedOr(err)
	}
	if r.Requests == 0 {
		return s, fmt.Errorf("no request was answered: %s", r.FirstFail)
	}

	s.perSecond = r.PerSecond()
	s.p50 = bench.Percentile(r.Latencies, 50).Seconds()
	s.p99 = bench.Percentile(r.Latencies, 99).Seconds()
	s.cpuPerRequest = (cpuAfter - cpuBefore).Seconds() / float64(r.Requests)
	s.peak = float64(mem.Peak)
	s.clientBusy = (clientAfter - clientBefore).Seconds() / r.Elapsed.Seconds() / float64(runtime.GOMAXPROCS(0))
	s.failures, s.firstFail = r.Failures, r.FirstFail
	return s, nil
}

// exitedOr explains err by a process of inst that exited, if one did.
func (inst *instance) exitedOr(err error) error {
	for _, p := range inst.all {
		if p.hasExited() {
			return fmt.Errorf("%s exited while it was measured (%v)", p.name, p.err)
		}
	}
	return err
}

func cpuTime(procs []*process) (time.Duration, error) {
	var total time.Duration
	for _, p := range procs {
		d, err := bench.ReadCPU(p.pid())
		if err != nil {
			if p.hasExited() {
				return 0, fmt.Errorf("%s exited while it was measured (%v)", p.name, p.err)
			}
			return 0, fmt.Errorf("%s: %w", p.name, err)
		}
		total += d
	}
	return total, nil
}
