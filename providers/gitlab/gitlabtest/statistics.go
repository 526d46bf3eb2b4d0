package gitlabtest

// statistics.go: GET /projects/:id?statistics=true, as GitLab answers it
// to a member with at least the Reporter role (the fake's token is one):
// the project with a "statistics" object whose commit_count is the number
// of commits of the default branch (ProjectStatistics#refresh counts the
// root ref). GitLab refreshes the figures asynchronously after a push;
// the fake's are always current.

import (
	"net/http"
	"strconv"
)

// projectStatisticsJSON is GitLab's ProjectStatistics entity.
type projectStatisticsJSON struct {
	CommitCount           int   `json:"commit_count"`
	StorageSize           int64 `json:"storage_size"`
	RepositorySize        int64 `json:"repository_size"`
	WikiSize              int64 `json:"wiki_size"`
	LFSObjectsSize        int64 `json:"lfs_objects_size"`
	JobArtifactsSize      int64 `json:"job_artifacts_size"`
	PipelineArtifactsSize int64 `json:"pipeline_artifacts_size"`
	PackagesSize          int64 `json:"packages_size"`
	SnippetsSize          int64 `json:"snippets_size"`
	UploadsSize           int64 `json:"uploads_size"`
	ContainerRegistrySize int64 `json:"container_registry_size"`
}

// projectWithStatisticsJSON is GET /projects/:id with statistics=true.
type projectWithStatisticsJSON struct {
	projectJSON
	Statistics projectStatisticsJSON `json:"statistics"`
}

// wantsStatistics reports whether the request asks for statistics
// (GitLab's Grape Boolean accepts true/1/yes... ; the clients send true).
func wantsStatistics(c *call) bool {
	v, err := strconv.ParseBool(c.r.URL.Query().Get("statistics"))
	return err == nil && v
}

// projectWithStatistics is the project and its statistics.
func (s *Server) projectWithStatistics(c *call, snap *projectSnapshot) response {
	st := projectStatisticsJSON{}
	if head, ok := snap.branches[snap.p.DefaultBranch]; ok {
		st.CommitCount = len(s.histories.Log(snap.history, head))
		st.RepositorySize = int64(st.CommitCount) * 2048 // plausible, not measured
		st.StorageSize = st.RepositorySize
	}
	return jsonResponse(http.StatusOK, projectWithStatisticsJSON{projectJSON: s.projectJSON(c, snap, true), Statistics: st})
}
