package oidc_test

import (
	"os"
	"testing"

	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestSuiteOnPostgres runs this package's tests again on PostgreSQL (a
// child test process; every test gets a fresh database).
func TestSuiteOnPostgres(t *testing.T) { pgtest.RerunSuite(t) }
