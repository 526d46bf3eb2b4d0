package state

import (
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

// Delivery is an accepted webhook delivery waiting to be processed.
type Delivery struct {
	Seq        uint64          `json:"-"`
	Provider   string          `json:"provider"`
	ID         string          `json:"id"` // X-GitHub-Delivery / Idempotency-Key / X-Gitlab-Event-UUID
	Event      providers.Event `json:"event"`
	ReceivedAt time.Time       `json:"received_at"`
}
