package pgtest

import (
	"context"

	"github.com/suitecheck/suitecheck/internal/pgcluster"
)

// The cluster itself lives in internal/pgcluster, which the product links;
// this package adds what tests need around it.
type (
	Cluster = pgcluster.Cluster
	Options = pgcluster.Options
)

// Start starts a cluster; see [pgcluster.Start].
func Start(ctx context.Context, opts Options) (*Cluster, error) { return pgcluster.Start(ctx, opts) }

// ErrBinariesNotFound is [pgcluster.ErrBinariesNotFound].
var ErrBinariesNotFound = pgcluster.ErrBinariesNotFound
