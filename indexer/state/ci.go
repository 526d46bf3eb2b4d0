package state

import (
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

// CIState is what the builds-and-deployments step of a repo remembers
// between passes: its list cursors and, per environment, the last
// successful deployment (the lower bound of the next one's commit range).
type CIState struct {
	Key RepoKey `json:"key"`
	// RunList and DeployList are the conditional state of the first page
	// of each list; they are kept only when a pass read no further than
	// that page, so a 304 proves that nothing at or above the watermark
	// changed.
	RunList    providers.ListState `json:"run_list"`
	DeployList providers.ListState `json:"deploy_list"`
	// RunWatermark and DeployWatermark: every run (deployment) created
	// before it was seen in a final state; a pass lists back to it and no
	// further.
	RunWatermark    time.Time `json:"run_watermark"`
	DeployWatermark time.Time `json:"deploy_watermark"`
	// Environments maps an environment name to its recent successful
	// deployments.
	Environments map[string]EnvCursor `json:"environments,omitempty"`
	// Workflows maps a workflow key and branch (key + "\x00" + branch)
	// to its recent successful runs: a run builds the commits since the
	// last green one.
	Workflows map[string]EnvCursor `json:"workflows,omitempty"`
}

// EnvCursor is the recent successful deployments to an environment (or
// runs of a workflow on a branch), oldest first: the boundaries of the
// commit ranges of later ones.
type EnvCursor struct {
	Successes []EnvDeployment `json:"successes,omitempty"`
}

// EnvDeployment is one successful deployment.
type EnvDeployment struct {
	ID  int64     `json:"id"`
	SHA string    `json:"sha"`
	At  time.Time `json:"at"` // created
}

// Before returns the commit of the latest successful deployment created
// before the deployment (id, created), "" if none is remembered.
func (c EnvCursor) Before(id int64, created time.Time) string {
	for i := len(c.Successes) - 1; i >= 0; i-- {
		s := c.Successes[i]
		if s.At.Before(created) || s.At.Equal(created) && s.ID < id {
			return s.SHA
		}
	}
	return ""
}

// With returns c with d added in order (replacing the same id), keeping
// the newest max.
func (c EnvCursor) With(d EnvDeployment, max int) EnvCursor {
	out := make([]EnvDeployment, 0, len(c.Successes)+1)
	for _, s := range c.Successes {
		if s.ID != d.ID {
			out = append(out, s)
		}
	}
	i := len(out)
	for i > 0 && (out[i-1].At.After(d.At) || out[i-1].At.Equal(d.At) && out[i-1].ID > d.ID) {
		i--
	}
	out = append(out[:i], append([]EnvDeployment{d}, out[i:]...)...)
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return EnvCursor{Successes: out}
}

// CIKind says whether a CIEntry is a build or a deployment.
type CIKind string

// CI entry kinds.
const (
	CIBuild      CIKind = "build"
	CIDeployment CIKind = "deployment"
)

// CIEntryID names the one link an issue gets per repo and workflow
// (builds) or per repo and environment (deployments).
type CIEntryID struct {
	Kind  CIKind `json:"kind"`
	Name  string `json:"name"` // workflow key or environment name
	Issue string `json:"issue"`
}

// CIEntry is the run or deployment an issue's link currently shows: the
// newest one that concerns the issue. A later pass replaces it only with
// a newer one (or the same one in a new state).
type CIEntry struct {
	ID        CIEntryID          `json:"id"`
	SourceID  int64              `json:"source_id"` // run or deployment id
	Status    providers.CIStatus `json:"status"`
	SHA       string             `json:"sha"`
	CreatedAt time.Time          `json:"created_at"`
}

// Newer reports whether an entry for a run or deployment (id, created)
// should replace e: a later one, or the same one (its state may have
// changed).
func (e CIEntry) Newer(id int64, created time.Time) bool {
	if id == e.SourceID {
		return true
	}
	if !created.Equal(e.CreatedAt) {
		return created.After(e.CreatedAt)
	}
	return id > e.SourceID
}
