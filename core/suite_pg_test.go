package core_test

import (
	"os"
	"testing"

	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestSuiteOnPostgres runs this package's service tests again, in a child
// test process whose every newEnv opens a fresh PostgreSQL database: the
// rules must hold the same on both stores.
func TestSuiteOnPostgres(t *testing.T) { pgtest.RerunSuite(t) }
