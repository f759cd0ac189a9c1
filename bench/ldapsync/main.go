// Command ldapsync measures LDAP sync against a throwaway slapd loaded with N
// users and 200 groups: the floor (a bare paged search of the same entries
// with go-ldap, each page dropped), then `roster sync run` as a child process
// for the first full sync, a no-change resync and an incremental sync after
// 100 changes, each with its wall time, the child's peak RSS and the CPU
// time it cost: the child's (user+system) and slapd's during the step. It
// prints the median of -runs runs and the targets, and with
// -benchout writes every run in the Go benchmark format for benchstat. On a
// shared machine the CPU ratio to the floor's (roster + slapd against the
// floor's client + slapd) moves much less with the load than the wall-time
// ratio, which is the target's measure.
//
// The directory (slapdtest.BenchDirectory, cached in the temp dir): N users
// with non-ASCII names, one in five named by a DN escaping , + " \, 200
// groupOfNames groups holding 2.06 memberships per user (206,000 at
// 100,000), memberOf on the users.
//
//	go run ./bench/ldapsync -users 100000 -runs 6 -benchout bench.txt
//	benchstat bench.txt   # go install golang.org/x/perf/cmd/benchstat@latest
//
// -compare OTHER_ROSTER measures a second binary in every run too, against
// the same floor, the two taking turns going first: an A/B on a shared machine.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// tb lets the slapdtest helpers run outside a test.
type tb struct{ cleanups []func() }

func (t *tb) Helper()                           {}
func (t *tb) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *tb) Fatal(args ...any)                 { t.close(); log.Fatal(args...) }
func (t *tb) Fatalf(format string, args ...any) { t.close(); log.Fatalf(format, args...) }
func (t *tb) Skipf(format string, args ...any)  { t.Fatalf(format, args...) }
func (t *tb) close() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
}

type sample struct {
	seconds float64
	rssMB   float64
	cpu     float64 // the process's user+system CPU seconds
	srvCPU  float64 // slapd's CPU seconds during the step
}

// total is the CPU the step cost the machine: the client's and slapd's.
func (s sample) total() float64 { return s.cpu + s.srvCPU }

// procCPU is a process's user+system CPU seconds so far (/proc/PID/stat).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var ut, st float64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return (ut + st) / 100 // USER_HZ
}

// withServer runs step and adds slapd's CPU time during it.
func withServer(pid int, step func() sample) sample {
	before := procCPU(pid)
	s := step()
	s.srvCPU = procCPU(pid) - before
	return s
}

// cpuOf is a finished child's user+system CPU seconds.
func cpuOf(ps *os.ProcessState) float64 {
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

func main() {
	if url := os.Getenv("ROSTER_BENCH_FLOOR_URL"); url != "" {
		// The floor runs in a child: its decoded pages would otherwise raise
		// this process's RSS, which Linux counts into the children's ru_maxrss.
		t := &tb{}
		fmt.Println(floor(t, url))
		return
	}
	users := flag.Int("users", 100000, "users in the directory")
	runs := flag.Int("runs", 3, "runs; the median is reported")
	roster := flag.String("roster", "", "roster binary (default: built from ./cmd/roster)")
	benchout := flag.String("benchout", "", "also write each run in the Go benchmark format to this file (for benchstat)")
	compare := flag.String("compare", "", "a second roster binary measured in every run, against the same floor, the two taking turns going first (an A/B under the same load)")
	flag.Parse()
	t := &tb{}
	defer t.close()
	dir, err := os.MkdirTemp("", "roster-bench-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if *roster == "" {
		*roster = filepath.Join(dir, "roster")
		if out, err := exec.Command("go", "build", "-o", *roster, "./cmd/roster").CombinedOutput(); err != nil {
			t.Fatalf("build roster: %v\n%s", err, out)
		}
	}
	start := time.Now()
	srv := slapdtest.StartCached(t, fmt.Sprintf("dir-%d", *users), func(w io.Writer) error { return slapdtest.BenchDirectory(w, *users) })
	log.Printf("slapd with %d users ready in %s", *users, time.Since(start).Round(time.Millisecond))
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(slapdtest.AdminPW), 0o600); err != nil {
		t.Fatal(err)
	}
	memberships := slapdtest.BenchDirectoryMemberships(*users)
	steps := map[string][]sample{}
	bins := []string{*roster}
	if *compare != "" {
		bins = append(bins, *compare)
	}
	names := []string{"floor"}
	for k := range bins {
		for _, step := range []string{"full", "resync", "incremental100"} {
			names = append(names, step+suffix(k))
		}
	}
	for r := range *runs {
		pid := srv.Pid()
		steps["floor"] = append(steps["floor"], withServer(pid, func() sample { return floorChild(t, srv.URL) }))
		line := fmt.Sprintf("run %d: floor %.2fs", r+1, steps["floor"][r].seconds)
		// The binaries take turns going first: on a loaded machine the load
		// drifts within a run, and neither should always meet it first.
		order := []int{0}
		if len(bins) == 2 {
			order = []int{r % 2, 1 - r%2}
		}
		for _, k := range order {
			bin := bins[k]
			cfg := filepath.Join(dir, fmt.Sprintf("roster-%d-%d.yaml", r, k))
			db := filepath.Join(dir, fmt.Sprintf("roster-%d-%d.db", r, k))
			conf := fmt.Sprintf(`database: {driver: sqlite, dsn: %s}
log: {level: warn}
ldap:
  sources:
    - name: corp
      urls: ["%s"]
      bind_dn: "%s"
      bind_password_file: %s
      users: {base_dn: "%s"}
      groups: {base_dn: "%s"}
      invite: false
      timeout: 60s
`, db, srv.URL, slapdtest.AdminDN, pw, slapdtest.PeopleDN, slapdtest.GroupsDN)
			if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			sf := suffix(k)
			steps["full"+sf] = append(steps["full"+sf], withServer(pid, func() sample {
				return syncRun(t, bin, cfg, func(rep report) bool {
					return rep.Created == *users && rep.Memberships == memberships && rep.Mode == "full"
				}, "--full")
			}))
			steps["resync"+sf] = append(steps["resync"+sf], withServer(pid, func() sample {
				return syncRun(t, bin, cfg, func(rep report) bool {
					return rep.Unchanged == *users && rep.Memberships == 0 && rep.Mode == "full"
				}, "--full")
			}))
			change(t, srv.URL, *users, 100, 2*r+k)
			steps["incremental100"+sf] = append(steps["incremental100"+sf], withServer(pid, func() sample {
				return syncRun(t, bin, cfg, func(rep report) bool {
					return rep.Updated == 100 && rep.Mode == "incremental"
				})
			}))
			line += fmt.Sprintf(" | %s: full %.2fs resync %.2fs incremental %.2fs", filepath.Base(bin), steps["full"+sf][r].seconds,
				steps["resync"+sf][r].seconds, steps["incremental100"+sf][r].seconds)
			os.Remove(db)
		}
		log.Print(line)
	}
	if *benchout != "" {
		writeBench(t, *benchout, *users, names, steps)
	}
	fmt.Printf("\n%d users, 200 groups (%d memberships), median of %d runs; × floor is the median of each run's ratio to the floor of the same run\n", *users, memberships, *runs)
	for k, bin := range bins {
		fmt.Printf("steps%s: %s\n", suffix(k), bin)
	}
	fmt.Println()
	fmt.Printf("| step | time (s) | × floor | CPU s (roster + slapd) | CPU × floor | peak RSS (MB) | target |\n|---|---|---|---|---|---|---|\n")
	targets := map[string]string{"floor": "—", "full": "≤ 2× floor, RSS < 150 MB", "resync": "≤ 1.3× floor, RSS < 150 MB", "incremental100": "< 1 s"}
	for _, name := range names {
		sec := median(steps[name], func(s sample) float64 { return s.seconds })
		ratios := make([]sample, len(steps[name]))
		for r, x := range steps[name] {
			ratios[r].seconds = x.seconds / steps["floor"][r].seconds
		}
		ratio := median(ratios, func(s sample) float64 { return s.seconds })
		cpuRatios := make([]sample, len(steps[name]))
		for r, x := range steps[name] {
			cpuRatios[r].seconds = x.total() / steps["floor"][r].total()
		}
		cpuRatio := median(cpuRatios, func(s sample) float64 { return s.seconds })
		cpu := median(steps[name], func(s sample) float64 { return s.cpu })
		srvCPU := median(steps[name], func(s sample) float64 { return s.srvCPU })
		rss := median(steps[name], func(s sample) float64 { return s.rssMB })
		rssText := "—"
		if rss > 0 {
			rssText = fmt.Sprintf("%.0f", rss)
		}
		fmt.Printf("| %s | %.2f | %.2f | %.2f + %.2f | %.2f | %s | %s |\n", name, sec, ratio, cpu, srvCPU, cpuRatio, rssText, targets[strings.TrimSuffix(name, " (compare)")])
	}
}

func median(s []sample, f func(sample) float64) float64 {
	v := make([]float64, len(s))
	for i := range s {
		v[i] = f(s[i])
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// suffix names the steps of the k-th binary: "" for the first, " (compare)" for -compare.
func suffix(k int) string {
	if k == 0 {
		return ""
	}
	return " (compare)"
}

// writeBench writes each run's steps as Go benchmark results.
func writeBench(t *tb, path string, users int, names []string, steps map[string][]sample) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "goos: linux\ngoarch: amd64\npkg: github.com/rosterhq/roster/bench/ldapsync\n")
	for r := range steps["floor"] {
		for _, name := range names {
			x := steps[name][r]
			fmt.Fprintf(&b, "BenchmarkLDAPSync/users=%d/%s \t1\t%d ns/op\t%.3f x-floor\t%.2f cpu-s\t%.2f slapd-cpu-s\t%.3f x-floor-cpu\t%.1f peak-RSS-MB\n",
				users, strings.ReplaceAll(name, " (compare)", "-compare"), int64(x.seconds*1e9), x.seconds/steps["floor"][r].seconds,
				x.cpu, x.srvCPU, x.total()/steps["floor"][r].total(), x.rssMB)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// report is the part of `roster sync run --json` the benchmark checks.
type report struct {
	Status      string `json:"status"`
	Mode        string `json:"mode"`
	Created     int    `json:"created"`
	Updated     int    `json:"updated"`
	Unchanged   int    `json:"unchanged"`
	Memberships int    `json:"memberships"`
}

// syncRun runs `roster sync run` and returns its wall time and peak RSS;
// the run must be ok and its report pass check.
func syncRun(t *tb, roster, cfg string, check func(report) bool, args ...string) sample {
	cmd := exec.Command(roster, append([]string{"sync", "run", "--config", cfg, "--json"}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("roster sync run %v: %v\n%s%s", args, err, out.String(), errOut.String())
	}
	d := time.Since(start)
	var rep report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Status != "ok" || !check(rep) {
		t.Fatalf("sync run %v: %v %s", args, err, out.String())
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss float64
	if ru != nil {
		rss = float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return sample{seconds: d.Seconds(), rssMB: rss, cpu: cpuOf(cmd.ProcessState)}
}

// floorChild runs the floor in a child process.
func floorChild(t *tb, url string) sample {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "ROSTER_BENCH_FLOOR_URL="+url)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("floor: %v", err)
	}
	var sec float64
	if _, err := fmt.Sscan(string(out), &sec); err != nil {
		t.Fatalf("floor output %q: %v", out, err)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss float64
	if ru != nil {
		rss = float64(ru.Maxrss) / 1024
	}
	return sample{seconds: sec, rssMB: rss, cpu: cpuOf(cmd.ProcessState)}
}

// floor is a bare paged search of the users and groups the sync reads, with
// go-ldap, each page dropped.
func floor(t *tb, url string) float64 {
	start := time.Now()
	c, err := ldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(slapdtest.AdminDN, slapdtest.AdminPW); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		base, filter string
		attrs        []string
	}{
		{slapdtest.PeopleDN, "(objectClass=inetOrgPerson)", []string{"uid", "mail", "givenName", "sn", "telephoneNumber", "entryUUID", "entryCSN", "pwdAccountLockedTime", "nsAccountLock"}},
		{slapdtest.GroupsDN, "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))", []string{"cn", "entryUUID", "entryCSN", "member", "uniqueMember", "memberUid"}},
	} {
		paging := ldap.NewControlPaging(1000)
		req := ldap.NewSearchRequest(q.base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, q.filter, q.attrs, []ldap.Control{paging})
		for {
			res, err := c.Search(req)
			if err != nil {
				t.Fatal(err)
			}
			pc, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
			if pc == nil || len(pc.Cookie) == 0 {
				break
			}
			paging.SetCookie(pc.Cookie)
		}
	}
	return time.Since(start).Seconds()
}

// change gives k users a new phone number.
func change(t *tb, url string, n, k, round int) {
	c, err := ldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(slapdtest.AdminDN, slapdtest.AdminPW); err != nil {
		t.Fatal(err)
	}
	for i := range k {
		m := ldap.NewModifyRequest(slapdtest.BenchDirectoryUserDN(i*(n/k)), nil)
		m.Replace("telephoneNumber", []string{fmt.Sprintf("+1 555 %d %d %d", time.Now().UnixNano(), round, i)})
		if err := c.Modify(m); err != nil {
			t.Fatal(err)
		}
	}
}
