package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

const putRouteDropsSQL = `INSERT INTO route_drops (issue, global_id, body)
	SELECT issue, global_id, body FROM unnest($1::text[], $2::text[], $3::bytea[]) AS d(issue, global_id, body)
	ON CONFLICT (issue, global_id) DO UPDATE SET body = EXCLUDED.body`

// routeDropArrays is ds as the parallel arrays of putRouteDropsSQL, the
// last record of an issue and entity winning.
func routeDropArrays(ds []state.RouteDrop) (issues, gids []string, bodies [][]byte, err error) {
	at := map[[2]string]int{}
	for _, d := range ds {
		body, err := json.Marshal(d)
		if err != nil {
			return nil, nil, nil, err
		}
		key := [2]string{strings.ToUpper(d.Issue), d.GlobalID}
		if i, ok := at[key]; ok {
			bodies[i] = body
			continue
		}
		at[key] = len(issues)
		issues, gids, bodies = append(issues, key[0]), append(gids, key[1]), append(bodies, body)
	}
	return issues, gids, bodies, nil
}

// PutRouteDrops records dropped keys, replacing earlier records of the
// same issue and entity.
func (s *Store) PutRouteDrops(ds []state.RouteDrop) error {
	if len(ds) == 0 {
		return nil
	}
	issues, gids, bodies, err := routeDropArrays(ds)
	if err != nil {
		return fmt.Errorf("pgstore: record keys dropped by routes: %w", err)
	}
	return s.tx("record keys dropped by routes", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, putRouteDropsSQL, issues, gids, bodies)
		return err
	})
}

// RouteDrops returns the dropped keys recorded for an issue, ordered by
// globalId.
func (s *Store) RouteDrops(issue string) ([]state.RouteDrop, error) {
	var out []state.RouteDrop
	err := s.each("route drops of "+issue, "SELECT body FROM route_drops WHERE issue = $1 ORDER BY global_id",
		[]any{strings.ToUpper(issue)}, func(body []byte) error {
			var d state.RouteDrop
			if err := json.Unmarshal(body, &d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	return out, err
}
