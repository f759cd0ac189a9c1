package store

import (
	"os"
	"testing"

	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
