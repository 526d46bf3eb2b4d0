package state

import "time"

// RouteDrop records an issue key that a provider's routes kept from being
// linked (providers[].routes): which entity mentioned it and why it was
// dropped. explain shows them on the issue whose key was dropped.
type RouteDrop struct {
	Issue    string    `json:"issue"`
	GlobalID string    `json:"global_id"`
	Kind     string    `json:"kind"`
	Repo     string    `json:"repo"` // provider/owner/name
	Title    string    `json:"title"`
	URL      string    `json:"url"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}
