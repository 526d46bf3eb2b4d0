package gitlabtest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// ci.go serves pipelines (GET /projects/:id/pipelines, GitLab's "list
// project pipelines": https://docs.gitlab.com/api/pipelines/#list-project-pipelines)
// and deployments (GET /projects/:id/deployments,
// https://docs.gitlab.com/api/deployments/#list-project-deployments), with
// the filters jiralinkd uses (updated_after, order_by, sort), and builds
// the Pipeline Hook and Deployment Hook payloads of the webhook events
// documentation. Job lists, traces and artifacts are answered as Forbidden.

// Pipeline seeds or updates a pipeline.
type Pipeline struct {
	ID     int64
	IID    int64 // 0 means the next for the project
	Name   string
	Ref    string
	SHA    string
	Source string // "" means push
	// Status is created, pending, running, success, failed, canceled,
	// skipped or manual ("" means created).
	Status               string
	MergeRequestIID      int
	CreatedAt, UpdatedAt time.Time // zero means now
}

// Deployment seeds or updates a deployment (its status included).
type Deployment struct {
	ID          int64
	IID         int64 // 0 means the next for the project
	Ref, SHA    string
	Environment string
	ExternalURL string
	// Status is created, running, success, failed, canceled or blocked.
	Status               string
	CreatedAt, UpdatedAt time.Time // zero means now
}

type ciProject struct {
	pipelines map[int64]Pipeline
	deploys   map[int64]Deployment
}

// ciOf returns project id's CI state, creating it. Call with stateMu held
// for writing.
func (s *Server) ciOf(id int64) *ciProject {
	if s.ci == nil {
		s.ci = map[int64]*ciProject{}
	}
	c := s.ci[id]
	if c == nil {
		c = &ciProject{pipelines: map[int64]Pipeline{}, deploys: map[int64]Deployment{}}
		s.ci[id] = c
	}
	return c
}

// UpsertPipeline creates or updates a pipeline.
func (h *ProjectHandle) UpsertPipeline(p Pipeline) {
	now := h.s.now().UTC().Truncate(time.Millisecond)
	h.update(false, func(st *projectState) {
		c := h.s.ciOf(h.id)
		old, had := c.pipelines[p.ID]
		if had {
			p.IID = cmp.Or(p.IID, old.IID)
			p.CreatedAt = cmp.Or(p.CreatedAt, old.CreatedAt)
		} else if p.IID == 0 {
			for _, o := range c.pipelines {
				p.IID = max(p.IID, o.IID)
			}
			p.IID++
		}
		p.CreatedAt = cmp.Or(p.CreatedAt, now)
		p.UpdatedAt = cmp.Or(p.UpdatedAt, now)
		p.Source = cmp.Or(p.Source, "push")
		p.Status = cmp.Or(p.Status, "created")
		c.pipelines[p.ID] = p
	})
}

// UpsertDeployment creates or updates a deployment.
func (h *ProjectHandle) UpsertDeployment(d Deployment) {
	now := h.s.now().UTC().Truncate(time.Millisecond)
	h.update(false, func(st *projectState) {
		c := h.s.ciOf(h.id)
		old, had := c.deploys[d.ID]
		if had {
			d.IID = cmp.Or(d.IID, old.IID)
			d.CreatedAt = cmp.Or(d.CreatedAt, old.CreatedAt)
		} else if d.IID == 0 {
			for _, o := range c.deploys {
				d.IID = max(d.IID, o.IID)
			}
			d.IID++
		}
		d.CreatedAt = cmp.Or(d.CreatedAt, now)
		d.UpdatedAt = cmp.Or(d.UpdatedAt, now)
		d.Status = cmp.Or(d.Status, "created")
		c.deploys[d.ID] = d
	})
}

func (s *Server) ciSnapshot(id int64) ([]Pipeline, []Deployment) {
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	c := s.ci[id]
	if c == nil {
		return nil, nil
	}
	var ps []Pipeline
	for _, p := range c.pipelines {
		ps = append(ps, p)
	}
	var ds []Deployment
	for _, d := range c.deploys {
		ds = append(ds, d)
	}
	return ps, ds
}

// pipelineJSON is GitLab's PipelineBasic entity.
type pipelineJSON struct {
	ID        int64  `json:"id"`
	IID       int64  `json:"iid"`
	ProjectID int64  `json:"project_id"`
	SHA       string `json:"sha"`
	Ref       string `json:"ref"`
	Status    string `json:"status"`
	Source    string `json:"source"`
	CreatedAt dbTime `json:"created_at"`
	UpdatedAt dbTime `json:"updated_at"`
	WebURL    string `json:"web_url"`
	Name      string `json:"name"`
}

// ciWindow reads updated_after, order_by (id or updated_at; GitLab allows
// more) and sort.
func ciWindow(c *call) (after time.Time, byUpdated, desc bool, bad *response) {
	if after, bad = timeParam(c, "updated_after"); bad != nil {
		return
	}
	orderBy, bad := enumParam(c, "order_by", "id", "id", "status", "ref", "updated_at", "user_id", "created_at", "iid", "environment", "finished_at")
	if bad != nil {
		return
	}
	dir, bad := enumParam(c, "sort", "desc", "asc", "desc")
	return after, orderBy == "updated_at", dir == "desc", bad
}

func (s *Server) listPipelines(c *call, snap *projectSnapshot) response {
	after, byUpdated, desc, bad := ciWindow(c)
	if bad != nil {
		return *bad
	}
	ps, _ := s.ciSnapshot(snap.p.ID)
	var list []Pipeline
	for _, p := range ps {
		if !after.IsZero() && !p.UpdatedAt.After(after) {
			continue
		}
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b Pipeline) int {
		r := cmp.Compare(a.ID, b.ID)
		if byUpdated {
			r = cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), r)
		}
		if desc {
			return -r
		}
		return r
	})
	page, header, badp := paginate(c, list, countUpTo10k)
	if badp != nil {
		return *badp
	}
	web := s.web + "/" + snap.fullPath()
	items := make([]pipelineJSON, 0, len(page))
	for _, p := range page {
		items = append(items, pipelineJSON{ID: p.ID, IID: p.IID, ProjectID: snap.p.ID, SHA: p.SHA, Ref: p.Ref, Status: p.Status,
			Source: p.Source, CreatedAt: dbTime(p.CreatedAt), UpdatedAt: dbTime(p.UpdatedAt),
			WebURL: web + "/-/pipelines/" + strconv.FormatInt(p.ID, 10), Name: p.Name})
	}
	return listResponse(items, header)
}

// environmentJSON is GitLab's EnvironmentBasic entity.
type environmentJSON struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	ExternalURL string `json:"external_url"`
	CreatedAt   dbTime `json:"created_at"`
	UpdatedAt   dbTime `json:"updated_at"`
}

// deploymentJSON is GitLab's Deployment entity (without its deployable
// job, which jiralinkd does not read).
type deploymentJSON struct {
	ID          int64           `json:"id"`
	IID         int64           `json:"iid"`
	Ref         string          `json:"ref"`
	SHA         string          `json:"sha"`
	CreatedAt   dbTime          `json:"created_at"`
	UpdatedAt   dbTime          `json:"updated_at"`
	Status      string          `json:"status"`
	User        userJSON        `json:"user"`
	Environment environmentJSON `json:"environment"`
	Deployable  *struct{}       `json:"deployable"`
}

// EnvironmentID is the id the server gives a project's environment (a
// stable number per project and name).
func EnvironmentID(project int64, name string) int64 {
	var h int64 = 17
	for _, r := range name {
		h = h*31 + int64(r)
	}
	return project*1000 + (h%997+997)%997
}

func (s *Server) listDeployments(c *call, snap *projectSnapshot) response {
	after, byUpdated, desc, bad := ciWindow(c)
	if bad != nil {
		return *bad
	}
	env := c.r.URL.Query().Get("environment")
	_, ds := s.ciSnapshot(snap.p.ID)
	var list []Deployment
	for _, d := range ds {
		if !after.IsZero() && !d.UpdatedAt.After(after) || env != "" && d.Environment != env {
			continue
		}
		list = append(list, d)
	}
	slices.SortFunc(list, func(a, b Deployment) int {
		r := cmp.Compare(a.ID, b.ID)
		if byUpdated {
			r = cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), r)
		}
		if desc {
			return -r
		}
		return r
	})
	page, header, badp := paginate(c, list, countUpTo10k)
	if badp != nil {
		return *badp
	}
	items := make([]deploymentJSON, 0, len(page))
	for _, d := range page {
		items = append(items, deploymentJSON{ID: d.ID, IID: d.IID, Ref: d.Ref, SHA: d.SHA,
			CreatedAt: dbTime(d.CreatedAt), UpdatedAt: dbTime(d.UpdatedAt), Status: d.Status, User: s.user(s.username),
			Environment: environmentJSON{ID: EnvironmentID(snap.p.ID, d.Environment), Name: d.Environment, Slug: d.Environment,
				ExternalURL: d.ExternalURL, CreatedAt: dbTime(d.CreatedAt), UpdatedAt: dbTime(d.UpdatedAt)}})
	}
	return listResponse(items, header)
}

// jobTrace answers a job's log, marked Forbidden by its route.
func (s *Server) jobTrace(c *call, snap *projectSnapshot) response {
	return textResponse(http.StatusOK, "$ make test\nok\n")
}
