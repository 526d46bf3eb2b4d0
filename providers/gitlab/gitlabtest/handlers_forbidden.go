package gitlabtest

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"path"
	"strings"
)

// The handlers below model endpoints jiralinkd must never call. Their
// routes are marked forbidden, so every request is recorded as such; they
// answer like GitLab would, with made-up file data.

type statsJSON struct {
	Additions int `json:"additions"`
	Deletions int `json:"deletions"`
	Total     int `json:"total"`
}

var fakeStats = statsJSON{Additions: 1, Deletions: 1, Total: 2}

// commitDetailJSON is the single-commit GET, and a list item with
// with_stats=true.
type commitDetailJSON struct {
	commitJSON
	Stats        statsJSON `json:"stats"`
	Status       *string   `json:"status,omitempty"`
	LastPipeline *struct{} `json:"last_pipeline,omitempty"`
	ProjectID    int64     `json:"project_id,omitempty"`
}

type diffJSON struct {
	Diff        string  `json:"diff"`
	NewPath     string  `json:"new_path"`
	OldPath     string  `json:"old_path"`
	AMode       *string `json:"a_mode"`
	BMode       string  `json:"b_mode"`
	NewFile     bool    `json:"new_file"`
	RenamedFile bool    `json:"renamed_file"`
	DeletedFile bool    `json:"deleted_file"`
}

var fakeDiff = diffJSON{Diff: "@@ -1 +1 @@\n-old\n+new\n", NewPath: "README.md", OldPath: "README.md", BMode: "100644"}

func (s *Server) getCommit(c *call, snap *projectSnapshot) response {
	sha, ok := resolveRef(snap, c.params["sha"])
	cm, found := snap.history.Commit(sha)
	if !ok || !found {
		return messageResponse(http.StatusNotFound, "404 Commit Not Found")
	}
	return jsonResponse(http.StatusOK, commitDetailJSON{
		commitJSON: s.commitJSON(snap.fullPath(), cm, false), Stats: fakeStats, ProjectID: snap.p.ID,
	})
}

func (s *Server) commitDiff(c *call, snap *projectSnapshot) response {
	return listResponse([]diffJSON{fakeDiff}, nil)
}

func (s *Server) emptyList(c *call, snap *projectSnapshot) response {
	return listResponse([]struct{}{}, nil)
}

// getFile serves repository/files/:file_path and its /raw and /blame
// forms.
func (s *Server) getFile(c *call, snap *projectSnapshot) response {
	p := c.params["path"]
	if strings.HasSuffix(p, "/raw") || strings.HasSuffix(p, "/blame") {
		return textResponse(http.StatusOK, "fake file content\n")
	}
	content := "fake file content\n"
	return jsonResponse(http.StatusOK, map[string]any{
		"file_name": path.Base(p), "file_path": p, "size": len(content), "encoding": "base64",
		"content":        base64.StdEncoding.EncodeToString([]byte(content)),
		"content_sha256": strings.Repeat("0", 64), "ref": cmp.Or(c.r.URL.Query().Get("ref"), snap.p.DefaultBranch),
		"blob_id": strings.Repeat("b", 40), "commit_id": snap.branches[snap.p.DefaultBranch],
		"last_commit_id": snap.branches[snap.p.DefaultBranch], "execute_filemode": false,
	})
}

func (s *Server) rawBlob(c *call, snap *projectSnapshot) response {
	return textResponse(http.StatusOK, "fake file content\n")
}

func (s *Server) listTree(c *call, snap *projectSnapshot) response {
	return listResponse([]map[string]string{{
		"id": strings.Repeat("b", 40), "name": "README.md", "type": "blob", "path": "README.md", "mode": "100644",
	}}, nil)
}

func (s *Server) archive(c *call, snap *projectSnapshot) response {
	return response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"application/octet-stream"}, "Content-Disposition": {`attachment; filename="archive.tar.gz"`}},
		Body:   []byte("\x1f\x8b\x08\x00fake-archive"),
	}
}

func (s *Server) compare(c *call, snap *projectSnapshot) response {
	return jsonResponse(http.StatusOK, map[string]any{
		"commit": nil, "commits": []struct{}{}, "diffs": []diffJSON{fakeDiff},
		"compare_timeout": false, "compare_same_ref": false,
		"web_url": s.web + "/" + snap.fullPath() + "/-/compare",
	})
}

func (s *Server) mergeRequestChanges(c *call, snap *projectSnapshot) response {
	m, ok := findMergeRequest(c, snap)
	if !ok {
		return messageResponse(http.StatusNotFound, "404 Not found")
	}
	return jsonResponse(http.StatusOK, struct {
		mergeRequestJSON
		Changes []diffJSON `json:"changes"`
	}{s.mergeRequestJSON(snap, m), []diffJSON{fakeDiff}})
}

func (s *Server) mergeRequestDiffs(c *call, snap *projectSnapshot) response {
	if _, ok := findMergeRequest(c, snap); !ok {
		return messageResponse(http.StatusNotFound, "404 Not found")
	}
	return listResponse([]diffJSON{fakeDiff}, nil)
}
