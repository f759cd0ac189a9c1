// Command scim benchmarks roster's SCIM door: it starts roster on a
// temporary SQLite database (or PostgreSQL with -driver postgres) and, in the
// same run, an in-memory handler built on the same SCIM library; creates N
// users in each; then runs every operation for a fixed time with concurrent
// clients and prints req/s and p50/p99 latency per operation, and the
// roster/in-memory ratio.
//
//	go run ./bench/scim [-users 10000] [-clients 16] [-duration 5s] [-group-patches 5]
//	go run ./bench/scim -driver postgres [-dsn postgres://…/emptydb]
//
// With -driver postgres and no -dsn it starts a private PostgreSQL (Debian's
// postgresql package) in a temporary directory with durable settings except
// synchronous_commit=off: the same guarantee as roster's SQLite (WAL,
// synchronous=NORMAL): a crash loses at most the last moments, never consistency.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/rosterhq/roster/bench/scimbench"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	users := flag.Int("users", 10000, "users created before measuring")
	clients := flag.Int("clients", 16, "concurrent clients")
	dur := flag.Duration("duration", 5*time.Second, "time each operation runs")
	patches := flag.Int("group-patches", 5, "PATCHes of 1,000 group members (each on a new group)")
	driver := flag.String("driver", "sqlite", "roster's store: sqlite or postgres")
	dsn := flag.String("dsn", "", "postgres: an empty database (default: a private server started for the run)")
	flag.Parse()
	if *users < 1000 {
		return fmt.Errorf("-users must be at least 1000 (the group PATCH adds 1,000 of them)")
	}
	dir, err := os.MkdirTemp("", "roster-bench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var ros *scimbench.Target
	switch *driver {
	case "sqlite":
		ros, err = scimbench.StartRoster(context.Background(), dir, *clients)
	case "postgres":
		if *dsn == "" {
			srv, err := pgtest.StartServer("synchronous_commit=off")
			if err != nil {
				return fmt.Errorf("start PostgreSQL: %w", err)
			}
			defer srv.Stop()
			if *dsn, err = pgtest.CreateDatabase(srv.DSN, "roster_bench"); err != nil {
				return err
			}
		}
		ros, err = scimbench.StartRosterOn(context.Background(), "postgres", *dsn, *clients)
	default:
		return fmt.Errorf("-driver %q: use sqlite or postgres", *driver)
	}
	if err != nil {
		return err
	}
	defer ros.Close()
	mem, err := scimbench.StartMemory(*clients)
	if err != nil {
		return err
	}
	defer mem.Close()

	results := map[string][]scimbench.Result{}
	for _, t := range []*scimbench.Target{ros, mem} {
		start := time.Now()
		if err := t.Seed(*users, *clients); err != nil {
			return fmt.Errorf("%s: seed: %w", t.Name, err)
		}
		fmt.Fprintf(os.Stderr, "%s: created %d users in %s (%.0f/s)\n", t.Name, *users, time.Since(start).Round(time.Millisecond),
			float64(*users)/time.Since(start).Seconds())
		for _, op := range scimbench.Ops {
			r := scimbench.Run(t, op, *clients, *dur)
			if r.Errors > 0 {
				fmt.Fprintf(os.Stderr, "%s %s: %d errors, first: %v\n", t.Name, op.Name, r.Errors, r.FirstErr)
			}
			results[t.Name] = append(results[t.Name], r)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "operation (%d clients, %s each, %d users)\troster req/s\tp50\tp99\tin-memory req/s\tp50\tp99\troster/in-memory\terrors\t\n", *clients, *dur, *users)
	for i, r := range results[ros.Name] {
		m := results[mem.Name][i]
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%.0f\t%s\t%s\t%.0f%%\t%d\t\n", r.Op, r.PerSecond(), ms(r.P50), ms(r.P99),
			m.PerSecond(), ms(m.P50), ms(m.P99), 100*r.PerSecond()/m.PerSecond(), r.Errors+m.Errors)
	}
	for _, t := range []*scimbench.Target{ros, mem} {
		var lat []time.Duration
		for i := 0; i < *patches; i++ {
			d, err := scimbench.GroupPatch(t, t.Users(i*1000%(*users-999), 1000))
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			lat = append(lat, d)
		}
		slices.Sort(lat)
		fmt.Fprintf(tw, "PATCH 1,000 group members (%s, %d runs)\tmedian %s\tmax %s\t\t\t\t\t\t\t\n", t.Name, *patches, ms(lat[len(lat)/2]), ms(lat[len(lat)-1]))
	}
	return tw.Flush()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
