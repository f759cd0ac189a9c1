package core_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core/store/pgtest"
)

// suiteDriverEnv makes newEnv open PostgreSQL instead of SQLite.
const suiteDriverEnv = "ROSTER_TEST_CORE_DRIVER"

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestSuiteOnPostgres runs this package's service tests again, in a child
// test process whose every newEnv opens a fresh PostgreSQL database: the
// rules must hold the same on both stores.
func TestSuiteOnPostgres(t *testing.T) {
	if os.Getenv(suiteDriverEnv) != "" {
		t.Skip("already the PostgreSQL run")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	if err := pgtest.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Skipf("no PostgreSQL: %v", err)
	}
	args := []string{"-test.run", "^Test", "-test.skip", "^TestSuiteOnPostgres$"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), suiteDriverEnv+"=postgres", pgtest.Env())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("service tests on PostgreSQL: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("no PASS from the PostgreSQL run:\n%s", out)
	}
	t.Logf("service tests on PostgreSQL:\n%s", out)
}
