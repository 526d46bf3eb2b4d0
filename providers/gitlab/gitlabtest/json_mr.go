package gitlabtest

import "strconv"

type referencesJSON struct {
	Short    string `json:"short"`
	Relative string `json:"relative"`
	Full     string `json:"full"`
}

type timeStatsJSON struct {
	TimeEstimate        int     `json:"time_estimate"`
	TotalTimeSpent      int     `json:"total_time_spent"`
	HumanTimeEstimate   *string `json:"human_time_estimate"`
	HumanTotalTimeSpent *string `json:"human_total_time_spent"`
}

type taskCompletionJSON struct {
	Count          int `json:"count"`
	CompletedCount int `json:"completed_count"`
}

// mergeRequestJSON is an item of GET /projects/:id/merge_requests
// (GitLab's MergeRequestBasic entity).
type mergeRequestJSON struct {
	ID                          int64              `json:"id"`
	IID                         int                `json:"iid"`
	ProjectID                   int64              `json:"project_id"`
	Title                       string             `json:"title"`
	Description                 string             `json:"description"`
	State                       MergeRequestState  `json:"state"`
	Imported                    bool               `json:"imported"`
	ImportedFrom                string             `json:"imported_from"`
	CreatedAt                   dbTime             `json:"created_at"`
	UpdatedAt                   dbTime             `json:"updated_at"`
	MergedBy                    *userJSON          `json:"merged_by"`
	MergeUser                   *userJSON          `json:"merge_user"`
	MergedAt                    dbTime             `json:"merged_at"`
	MergeAfter                  *string            `json:"merge_after"`
	PreparedAt                  dbTime             `json:"prepared_at"`
	ClosedBy                    *userJSON          `json:"closed_by"`
	ClosedAt                    dbTime             `json:"closed_at"`
	TargetBranch                string             `json:"target_branch"`
	SourceBranch                string             `json:"source_branch"`
	UserNotesCount              int                `json:"user_notes_count"`
	Upvotes                     int                `json:"upvotes"`
	Downvotes                   int                `json:"downvotes"`
	Author                      userJSON           `json:"author"`
	Assignees                   []userJSON         `json:"assignees"`
	Assignee                    *userJSON          `json:"assignee"`
	Reviewers                   []userJSON         `json:"reviewers"`
	SourceProjectID             int64              `json:"source_project_id"`
	TargetProjectID             int64              `json:"target_project_id"`
	Labels                      []string           `json:"labels"`
	Draft                       bool               `json:"draft"`
	WorkInProgress              bool               `json:"work_in_progress"`
	Milestone                   *struct{}          `json:"milestone"`
	MergeWhenPipelineSucceeds   bool               `json:"merge_when_pipeline_succeeds"`
	MergeStatus                 string             `json:"merge_status"`
	DetailedMergeStatus         string             `json:"detailed_merge_status"`
	SHA                         string             `json:"sha"`
	MergeCommitSHA              *string            `json:"merge_commit_sha"`
	SquashCommitSHA             *string            `json:"squash_commit_sha"`
	DiscussionLocked            *bool              `json:"discussion_locked"`
	ShouldRemoveSourceBranch    *bool              `json:"should_remove_source_branch"`
	ForceRemoveSourceBranch     bool               `json:"force_remove_source_branch"`
	AllowCollaboration          bool               `json:"allow_collaboration"`
	AllowMaintainerToPush       bool               `json:"allow_maintainer_to_push"`
	Reference                   string             `json:"reference"`
	References                  referencesJSON     `json:"references"`
	WebURL                      string             `json:"web_url"`
	TimeStats                   timeStatsJSON      `json:"time_stats"`
	Squash                      bool               `json:"squash"`
	SquashOnMerge               bool               `json:"squash_on_merge"`
	TaskCompletionStatus        taskCompletionJSON `json:"task_completion_status"`
	HasConflicts                bool               `json:"has_conflicts"`
	BlockingDiscussionsResolved bool               `json:"blocking_discussions_resolved"`
}

// mergeRequestSimpleJSON is an item of the list with view=simple.
type mergeRequestSimpleJSON struct {
	ID          int64             `json:"id"`
	IID         int               `json:"iid"`
	ProjectID   int64             `json:"project_id"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	State       MergeRequestState `json:"state"`
	CreatedAt   dbTime            `json:"created_at"`
	UpdatedAt   dbTime            `json:"updated_at"`
	WebURL      string            `json:"web_url"`
}

// mergeRequestID is the instance-wide id of merge request iid of project.
func mergeRequestID(project int64, iid int) int64 { return project*100_000 + int64(iid) }

func (s *Server) mergeRequestJSON(snap *projectSnapshot, m MergeRequest) mergeRequestJSON {
	full := snap.fullPath()
	iid := strconv.Itoa(m.IID)
	source := m.SourceProjectID
	if source == 0 {
		source = snap.p.ID
	}
	j := mergeRequestJSON{
		ID:                          mergeRequestID(snap.p.ID, m.IID),
		IID:                         m.IID,
		ProjectID:                   snap.p.ID,
		Title:                       m.Title,
		Description:                 m.Description,
		State:                       m.State,
		ImportedFrom:                "none",
		CreatedAt:                   dbTime(m.CreatedAt),
		UpdatedAt:                   dbTime(m.UpdatedAt),
		TargetBranch:                m.TargetBranch,
		SourceBranch:                m.SourceBranch,
		Author:                      s.user(m.Author),
		Assignees:                   []userJSON{},
		Reviewers:                   []userJSON{},
		SourceProjectID:             source,
		TargetProjectID:             snap.p.ID,
		Labels:                      []string{},
		Draft:                       m.Draft,
		WorkInProgress:              m.Draft,
		MergeStatus:                 "can_be_merged",
		DetailedMergeStatus:         "mergeable",
		SHA:                         m.SHA,
		Reference:                   "!" + iid,
		References:                  referencesJSON{Short: "!" + iid, Relative: "!" + iid, Full: full + "!" + iid},
		WebURL:                      s.web + "/" + full + "/-/merge_requests/" + iid,
		BlockingDiscussionsResolved: true,
	}
	if m.State != MergeRequestOpened {
		j.DetailedMergeStatus = "not_open"
	}
	switch m.State {
	case MergeRequestMerged:
		u := s.user(m.Author)
		j.MergedBy, j.MergeUser = &u, &u
		j.MergedAt = dbTime(m.MergedAt)
	case MergeRequestClosed:
		u := s.user(m.Author)
		j.ClosedBy = &u
		j.ClosedAt = dbTime(m.ClosedAt)
	}
	if m.MergeCommitSHA != "" {
		sha := m.MergeCommitSHA
		j.MergeCommitSHA = &sha
	}
	j.PreparedAt = dbTime(m.CreatedAt)
	return j
}

func (s *Server) mergeRequestSimpleJSON(snap *projectSnapshot, m MergeRequest) mergeRequestSimpleJSON {
	return mergeRequestSimpleJSON{
		ID: mergeRequestID(snap.p.ID, m.IID), IID: m.IID, ProjectID: snap.p.ID, Title: m.Title,
		Description: m.Description, State: m.State, CreatedAt: dbTime(m.CreatedAt), UpdatedAt: dbTime(m.UpdatedAt),
		WebURL: s.web + "/" + snap.fullPath() + "/-/merge_requests/" + strconv.Itoa(m.IID),
	}
}
