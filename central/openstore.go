package central

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
)

// OpenStore opens the store that cfg names ("bolt:PATH" or a PostgreSQL
// URL). A store in use by
// a running central is locked: OpenStore then fails after a few seconds
// instead of waiting for ever.
func OpenStore(cfg *Config) (store.Store, error) {
	path, err := storePath(cfg.StoreOrDefault())
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if isPostgres(path) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return pgstore.Open(ctx, path, nil)
	}
	st, err := boltstore.Open(path, &boltstore.Options{Timeout: 3 * time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		// Several centrals share a PostgreSQL store, never a bbolt file.
		return nil, fmt.Errorf("%w (a bbolt store serves one central process: stop the other one, or run several centrals on PostgreSQL with --store postgres://…)", err)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}
