package indexer_test

import (
	"os"
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
)

// TestMain stops the throwaway PostgreSQL cluster the tests may start.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
