package ldapsync

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// BenchmarkSync measures a directory of N users (ROSTER_BENCH_USERS, default
// 100000) and 200 groups holding 2N member values, loaded once by slapadd
// and cached in the temp dir. Run it one iteration per sample:
//
//	go test -run '^$' -bench BenchmarkSync -benchtime 1x -count 5 ./ldapsync/ | tee bench.txt
//	benchstat bench.txt
//
// Sub-benchmarks: floor (a bare paged search of the same users and groups
// with go-ldap, each page dropped), full (first full sync into an empty
// store), resync (no-change full sync), incremental100 (100 users changed).
// Each reports peak-RSS-MB (the process's VmHWM, reset before the step) and
// peak-heap-MB (live heap objects, sampled every 5 ms).
func BenchmarkSync(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_USERS")); err == nil && v > 0 {
		n = v
	}
	srv := slapdtest.StartCached(b, fmt.Sprintf("dir-%d", n), func(w io.Writer) error { return slapdtest.BenchDirectory(w, n) })
	var e *env
	cfg := sourceConfig(srv, func(c *Config) { c.PageSize = 1000; c.MaxRemovals = "5%"; c.Timeout = 30 * time.Second })
	var synced bool
	b.Run("floor", func(b *testing.B) {
		for b.Loop() {
			measure(b, func() { benchFloor(b, srv.URL) })
		}
	})
	parent := b
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if e != nil {
				e.store.Close() // one store open at a time: its page cache counts in RSS
			}
			e = newEnv(parent) // kept open for the steps after this one
			src := e.source(cfg)
			b.StartTimer()
			measure(b, func() {
				if rep, err := src.run(context.Background(), core.DirectoryRunOptions{Full: true}); err != nil || rep.Created != n {
					b.Fatalf("full: %v %+v", err, rep)
				}
			})
		}
		synced = true
	})
	if !synced {
		return
	}
	src := e.source(cfg)
	b.Run("resync", func(b *testing.B) {
		for b.Loop() {
			measure(b, func() {
				if rep, err := src.run(context.Background(), core.DirectoryRunOptions{Full: true}); err != nil || rep.Unchanged != n {
					b.Fatalf("resync: %v %+v", err, rep)
				}
			})
		}
	})
	round := 0
	b.Run("incremental100", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			round++
			benchChange(b, srv.URL, n, 100, round)
			b.StartTimer()
			measure(b, func() {
				if rep, err := src.run(context.Background(), core.DirectoryRunOptions{}); err != nil || rep.Updated != 100 || rep.Mode != "incremental" {
					b.Fatalf("incremental: %v %+v", err, rep)
				}
			})
		}
	})
}

// benchFloor is the floor: the same entries, paged with go-ldap, dropped.
func benchFloor(b *testing.B, url string) {
	c, err := ldap.DialURL(url)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(slapdtest.AdminDN, slapdtest.AdminPW); err != nil {
		b.Fatal(err)
	}
	m, _ := presetAttrs("openldap")
	for _, q := range []struct {
		base, filter string
		attrs        []string
	}{
		{slapdtest.PeopleDN, "(objectClass=inetOrgPerson)", m.userAttributes()},
		{slapdtest.GroupsDN, m.groupFilter, append([]string{"cn", "entryUUID", "entryCSN"}, memberAttrs...)},
	} {
		paging := ldap.NewControlPaging(1000)
		req := ldap.NewSearchRequest(q.base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, q.filter, q.attrs, []ldap.Control{paging})
		for {
			res, err := c.Search(req)
			if err != nil {
				b.Fatal(err)
			}
			pc, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
			if pc == nil || len(pc.Cookie) == 0 {
				break
			}
			paging.SetCookie(pc.Cookie)
		}
	}
}

// benchChange changes the phone number of k users.
func benchChange(b *testing.B, url string, n, k, round int) {
	c, err := ldap.DialURL(url)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(slapdtest.AdminDN, slapdtest.AdminPW); err != nil {
		b.Fatal(err)
	}
	for i := range k {
		m := ldap.NewModifyRequest(slapdtest.BenchDirectoryUserDN(i*(n/k)), nil)
		m.Replace("telephoneNumber", []string{fmt.Sprintf("+1 555 %d %d %d", time.Now().UnixNano(), round, i)})
		if err := c.Modify(m); err != nil {
			b.Fatal(err)
		}
	}
}

// measure runs f and reports its peak RSS and peak live heap.
func measure(b *testing.B, f func()) {
	b.ReportAllocs()
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM to the current RSS
	var peak, live uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			live = max(live, s[1].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(live)/(1<<20), "peak-live-MB") // heap marked live by a GC
	if hwm := vmHWM(); hwm > 0 {
		b.ReportMetric(hwm/1024, "peak-RSS-MB")
	}
}

func vmHWM() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb
			}
		}
	}
	return 0
}
