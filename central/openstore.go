package central

import (
	"fmt"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
)

// OpenStore opens the store that cfg names ("bolt:PATH"). A store in use by
// a running central is locked: OpenStore then fails after a few seconds
// instead of waiting for ever.
func OpenStore(cfg *Config) (store.Store, error) {
	path, err := storePath(cfg.StoreOrDefault())
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	st, err := boltstore.Open(path, &boltstore.Options{Timeout: 3 * time.Second})
	if err != nil {
		return nil, err
	}
	return st, nil
}
