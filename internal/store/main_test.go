package store

import (
	"os"
	"testing"

	"github.com/rosterhq/roster/core/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
