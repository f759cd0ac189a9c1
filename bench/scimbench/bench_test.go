package scimbench

import (
	"context"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// Go benchmarks of the same operations as `go run ./bench/scim`, with 16
// concurrent clients on a database of 10,000 users, for benchstat:
//
//	go test -run '^$' -bench . -count 6 ./bench/scimbench/ | tee new.txt && benchstat new.txt

const (
	seedUsers = 10000
	clients   = 16
)

var (
	once     sync.Once
	targets  map[string]*Target
	setupErr error
)

func setup(b *testing.B) map[string]*Target {
	b.Helper()
	once.Do(func() {
		dir, err := os.MkdirTemp("", "roster-bench-*")
		if err != nil {
			setupErr = err
			return
		}
		ros, err := StartRoster(context.Background(), dir, clients)
		if err != nil {
			setupErr = err
			return
		}
		mem, err := StartMemory(clients)
		if err != nil {
			setupErr = err
			return
		}
		for _, t := range []*Target{ros, mem} {
			if err := t.Seed(seedUsers, clients); err != nil {
				setupErr = err
				return
			}
		}
		targets = map[string]*Target{"roster": ros, "memory": mem}
	})
	if setupErr != nil {
		b.Fatal(setupErr)
	}
	return targets
}

func benchOp(b *testing.B, name string) {
	var op Op
	for _, o := range Ops {
		if o.Name == name {
			op = o
		}
	}
	ts := setup(b)
	for _, which := range []string{"roster", "memory"} {
		t := ts[which]
		b.Run(which, func(b *testing.B) {
			b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				local := make([]time.Duration, 0, 1024)
				defer func() {
					mu.Lock()
					lat = append(lat, local...)
					mu.Unlock()
				}()
				for pb.Next() {
					start := time.Now()
					if err := op.Run(t); err != nil {
						b.Error(err)
						return
					}
					local = append(local, time.Since(start))
				}
			})
			b.StopTimer()
			slices.Sort(lat)
			if n := len(lat); n > 0 {
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "req/s")
				b.ReportMetric(float64(lat[n*50/100].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[min(n*99/100, n-1)].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

func BenchmarkCreateUser(b *testing.B)   { benchOp(b, "POST /Users") }
func BenchmarkFilterLookup(b *testing.B) { benchOp(b, "GET /Users?filter=userName eq") }
func BenchmarkGetByID(b *testing.B)      { benchOp(b, "GET /Users/{id}") }
func BenchmarkPatchUser(b *testing.B)    { benchOp(b, "PATCH /Users/{id}") }

// BenchmarkConditionalGet is GET /Users/{id} with If-None-Match of the
// current ETag (304 for roster; the in-memory baseline has no conditional
// GET and answers 200). Compare with BenchmarkGetByID:
//
//	go test -run '^$' -bench 'GetByID|ConditionalGet' -count 6 ./bench/scimbench/ | tee cond.txt && benchstat cond.txt
func BenchmarkConditionalGet(b *testing.B) { benchOp(b, "GET /Users/{id} If-None-Match") }
func BenchmarkListPage100(b *testing.B)    { benchOp(b, "GET /Users page of 100") }

// BenchmarkGroupPatch1000 is one PATCH adding 1,000 members to a new group
// (the group's creation is not timed).
func BenchmarkGroupPatch1000(b *testing.B) {
	ts := setup(b)
	for _, which := range []string{"roster", "memory"} {
		t := ts[which]
		b.Run(which, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				d, err := GroupPatch(t, t.Users(i*1000%(seedUsers-999), 1000))
				if err != nil {
					b.Fatal(err)
				}
				total += d
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "patch-ns/op")
		})
	}
}
