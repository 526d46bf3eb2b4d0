package boltstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// bucketRouteDrops holds the keys routes kept from being linked:
// issue\x00globalId → JSON state.RouteDrop.
var bucketRouteDrops = []byte("route_drops")

func routeDropKey(issue, globalID string) []byte {
	return []byte(strings.ToUpper(issue) + "\x00" + globalID)
}

// PutRouteDrops records dropped keys, replacing earlier records of the
// same issue and entity.
func (s *Store) PutRouteDrops(ds []state.RouteDrop) error {
	if len(ds) == 0 {
		return nil
	}
	return s.update("record keys dropped by routes", func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketRouteDrops)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if err := putJSON(b, routeDropKey(d.Issue, d.GlobalID), d); err != nil {
				return err
			}
		}
		return nil
	})
}

// RouteDrops returns the dropped keys recorded for an issue.
func (s *Store) RouteDrops(issue string) ([]state.RouteDrop, error) {
	var out []state.RouteDrop
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRouteDrops)
		if b == nil {
			return nil
		}
		prefix := []byte(strings.ToUpper(issue) + "\x00")
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var d state.RouteDrop
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: route drops of %s: %w", issue, err)
	}
	return out, nil
}
