package githubtest

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

type shaURL struct {
	SHA string `json:"sha"`
	URL string `json:"url"`
}

type gitPersonJSON struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  ghTime `json:"date"`
}

type verificationJSON struct {
	Verified   bool    `json:"verified"`
	Reason     string  `json:"reason"`
	Signature  *string `json:"signature"`
	Payload    *string `json:"payload"`
	VerifiedAt *string `json:"verified_at"`
}

type gitCommitJSON struct {
	Author       gitPersonJSON    `json:"author"`
	Committer    gitPersonJSON    `json:"committer"`
	Message      string           `json:"message"`
	Tree         shaURL           `json:"tree"`
	URL          string           `json:"url"`
	CommentCount int              `json:"comment_count"`
	Verification verificationJSON `json:"verification"`
}

type parentJSON struct {
	SHA     string `json:"sha"`
	URL     string `json:"url"`
	HTMLURL string `json:"html_url"`
}

// commitJSON is an item of GET /repos/{o}/{r}/commits. The single-commit
// GET adds stats and files (commitDetailJSON); the list never has them.
type commitJSON struct {
	SHA         string        `json:"sha"`
	NodeID      string        `json:"node_id"`
	Commit      gitCommitJSON `json:"commit"`
	URL         string        `json:"url"`
	HTMLURL     string        `json:"html_url"`
	CommentsURL string        `json:"comments_url"`
	Author      *userJSON     `json:"author"`
	Committer   *userJSON     `json:"committer"`
	Parents     []parentJSON  `json:"parents"`
}

// noreplyEmail stands in for the address GitHub would show; the corpus
// only has hashes.
func noreplyEmail(hash string) string { return hash + "@users.noreply.github.com" }

// fakeSHA derives a stable SHA-1 for objects the corpus does not have
// (trees).
func fakeSHA(parts ...string) string {
	sum := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

func (s *Server) commitJSON(c *call, snap *repoSnapshot, cm corpus.Commit) commitJSON {
	full := snap.repo.Owner + "/" + snap.repo.Name
	api := c.base + "/repos/" + full
	var parents []parentJSON
	for _, p := range cm.Parents {
		parents = append(parents, parentJSON{SHA: p, URL: api + "/commits/" + p, HTMLURL: s.web + "/" + full + "/commit/" + p})
	}
	if parents == nil {
		parents = []parentJSON{}
	}
	tree := fakeSHA("tree", cm.SHA)
	j := commitJSON{
		SHA:    cm.SHA,
		NodeID: legacyNodeID("Commit", fmt.Sprintf("%d:%s", snap.repo.ID, cm.SHA)),
		Commit: gitCommitJSON{
			Author:       gitPersonJSON{cm.AuthorName, noreplyEmail(cm.AuthorEmailHash), ghTime(cm.AuthorDate)},
			Committer:    gitPersonJSON{cm.CommitterName, noreplyEmail(cm.CommitterEmailHash), ghTime(cm.CommitterDate)},
			Message:      cm.Message,
			Tree:         shaURL{SHA: tree, URL: api + "/git/trees/" + tree},
			URL:          api + "/git/commits/" + cm.SHA,
			Verification: verificationJSON{Reason: "unsigned"},
		},
		URL:         api + "/commits/" + cm.SHA,
		HTMLURL:     s.web + "/" + full + "/commit/" + cm.SHA,
		CommentsURL: api + "/commits/" + cm.SHA + "/comments",
		Parents:     parents,
	}
	if login, ok := snap.logins[cm.AuthorEmailHash]; ok {
		u := s.user(c, login, false)
		j.Author = &u
	}
	if cm.CommitterName == "GitHub" {
		u := s.user(c, webFlowLogin, false)
		j.Committer = &u
	} else if login, ok := snap.logins[cm.CommitterEmailHash]; ok {
		u := s.user(c, login, false)
		j.Committer = &u
	}
	return j
}

type branchJSON struct {
	Name      string `json:"name"`
	Commit    shaURL `json:"commit"`
	Protected bool   `json:"protected"`
}

func (s *Server) branchJSON(c *call, r Repo, name, sha string) branchJSON {
	return branchJSON{
		Name:      name,
		Commit:    shaURL{SHA: sha, URL: c.base + "/repos/" + r.Owner + "/" + r.Name + "/commits/" + sha},
		Protected: false,
	}
}

type tagJSON struct {
	Name       string `json:"name"`
	ZipballURL string `json:"zipball_url"`
	TarballURL string `json:"tarball_url"`
	Commit     shaURL `json:"commit"`
	NodeID     string `json:"node_id"`
}

func (s *Server) tagJSON(c *call, r Repo, name, sha string) tagJSON {
	api := c.base + "/repos/" + r.Owner + "/" + r.Name
	esc := url.PathEscape(name)
	return tagJSON{
		Name:       name,
		ZipballURL: api + "/zipball/refs/tags/" + esc,
		TarballURL: api + "/tarball/refs/tags/" + esc,
		Commit:     shaURL{SHA: sha, URL: api + "/commits/" + sha},
		NodeID:     legacyNodeID("Ref", fmt.Sprintf("%d:refs/tags/%s", r.ID, name)),
	}
}

type hrefJSON struct {
	Href string `json:"href"`
}

type pullLinksJSON struct {
	Self           hrefJSON `json:"self"`
	HTML           hrefJSON `json:"html"`
	Issue          hrefJSON `json:"issue"`
	Comments       hrefJSON `json:"comments"`
	ReviewComments hrefJSON `json:"review_comments"`
	ReviewComment  hrefJSON `json:"review_comment"`
	Commits        hrefJSON `json:"commits"`
	Statuses       hrefJSON `json:"statuses"`
}

type pullRefJSON struct {
	Label string          `json:"label"`
	Ref   string          `json:"ref"`
	SHA   string          `json:"sha"`
	User  userJSON        `json:"user"`
	Repo  json.RawMessage `json:"repo"`
}

// pullJSON is an item of GET /repos/{o}/{r}/pulls ("pull-request-simple").
type pullJSON struct {
	URL                string        `json:"url"`
	ID                 int64         `json:"id"`
	NodeID             string        `json:"node_id"`
	HTMLURL            string        `json:"html_url"`
	DiffURL            string        `json:"diff_url"`
	PatchURL           string        `json:"patch_url"`
	IssueURL           string        `json:"issue_url"`
	CommitsURL         string        `json:"commits_url"`
	ReviewCommentsURL  string        `json:"review_comments_url"`
	ReviewCommentURL   string        `json:"review_comment_url"`
	CommentsURL        string        `json:"comments_url"`
	StatusesURL        string        `json:"statuses_url"`
	Number             int           `json:"number"`
	State              PullState     `json:"state"`
	Locked             bool          `json:"locked"`
	Title              string        `json:"title"`
	User               userJSON      `json:"user"`
	Body               *string       `json:"body"`
	Labels             []struct{}    `json:"labels"`
	Milestone          *struct{}     `json:"milestone"`
	ActiveLockReason   *string       `json:"active_lock_reason"`
	CreatedAt          ghTime        `json:"created_at"`
	UpdatedAt          ghTime        `json:"updated_at"`
	ClosedAt           ghTime        `json:"closed_at"`
	MergedAt           ghTime        `json:"merged_at"`
	MergeCommitSHA     *string       `json:"merge_commit_sha"`
	Assignee           *userJSON     `json:"assignee"`
	Assignees          []userJSON    `json:"assignees"`
	RequestedReviewers []userJSON    `json:"requested_reviewers"`
	RequestedTeams     []struct{}    `json:"requested_teams"`
	Head               pullRefJSON   `json:"head"`
	Base               pullRefJSON   `json:"base"`
	Links              pullLinksJSON `json:"_links"`
	AuthorAssociation  string        `json:"author_association"`
	AutoMerge          *struct{}     `json:"auto_merge"`
	Draft              bool          `json:"draft"`
}

// pullDetailJSON is GET /repos/{o}/{r}/pulls/{n}.
type pullDetailJSON struct {
	pullJSON
	Merged              bool      `json:"merged"`
	Mergeable           *bool     `json:"mergeable"`
	Rebaseable          *bool     `json:"rebaseable"`
	MergeableState      string    `json:"mergeable_state"`
	MergedBy            *userJSON `json:"merged_by"`
	Comments            int       `json:"comments"`
	ReviewComments      int       `json:"review_comments"`
	MaintainerCanModify bool      `json:"maintainer_can_modify"`
	Commits             int       `json:"commits"`
	Additions           int       `json:"additions"`
	Deletions           int       `json:"deletions"`
	ChangedFiles        int       `json:"changed_files"`
}

func (s *Server) pullJSON(c *call, snap *repoSnapshot, p PullRequest) pullJSON {
	r := snap.repo
	full := r.Owner + "/" + r.Name
	api := c.base + "/repos/" + full
	num := fmt.Sprint(p.Number)
	id := r.ID*100_000 + int64(p.Number)
	head := p.HeadSHA
	base := p.BaseSHA
	if base == "" {
		base = snap.branches[p.BaseRef]
	}
	headOwner := p.HeadOwner
	if headOwner == "" {
		headOwner = p.User
	}
	baseRepo := snap.encodedRepo(s, c, r.Owner)
	headRepo := snap.encodedRepo(s, c, headOwner)
	assoc := "CONTRIBUTOR"
	if strings.EqualFold(p.User, r.Owner) {
		assoc = "OWNER"
	}
	j := pullJSON{
		URL:                api + "/pulls/" + num,
		ID:                 id,
		NodeID:             legacyNodeID("PullRequest", fmt.Sprint(id)),
		HTMLURL:            s.web + "/" + full + "/pull/" + num,
		DiffURL:            s.web + "/" + full + "/pull/" + num + ".diff",
		PatchURL:           s.web + "/" + full + "/pull/" + num + ".patch",
		IssueURL:           api + "/issues/" + num,
		CommitsURL:         api + "/pulls/" + num + "/commits",
		ReviewCommentsURL:  api + "/pulls/" + num + "/comments",
		ReviewCommentURL:   api + "/pulls/comments{/number}",
		CommentsURL:        api + "/issues/" + num + "/comments",
		StatusesURL:        api + "/statuses/" + head,
		Number:             p.Number,
		State:              p.State,
		Title:              p.Title,
		User:               s.user(c, p.User, false),
		Labels:             []struct{}{},
		CreatedAt:          ghTime(p.CreatedAt),
		UpdatedAt:          ghTime(p.UpdatedAt),
		Assignees:          []userJSON{},
		RequestedReviewers: []userJSON{},
		RequestedTeams:     []struct{}{},
		Head: pullRefJSON{
			Label: headOwner + ":" + p.HeadRef, Ref: p.HeadRef, SHA: head,
			User: s.user(c, headOwner, false), Repo: headRepo,
		},
		Base: pullRefJSON{
			Label: r.Owner + ":" + p.BaseRef, Ref: p.BaseRef, SHA: base,
			User: s.user(c, r.Owner, r.OwnerIsOrg), Repo: baseRepo,
		},
		Links: pullLinksJSON{
			Self:           hrefJSON{api + "/pulls/" + num},
			HTML:           hrefJSON{s.web + "/" + full + "/pull/" + num},
			Issue:          hrefJSON{api + "/issues/" + num},
			Comments:       hrefJSON{api + "/issues/" + num + "/comments"},
			ReviewComments: hrefJSON{api + "/pulls/" + num + "/comments"},
			ReviewComment:  hrefJSON{api + "/pulls/comments{/number}"},
			Commits:        hrefJSON{api + "/pulls/" + num + "/commits"},
			Statuses:       hrefJSON{api + "/statuses/" + head},
		},
		AuthorAssociation: assoc,
		Draft:             p.Draft,
	}
	if p.Body != "" {
		b := p.Body
		j.Body = &b
	}
	if p.State == PullClosed {
		j.ClosedAt = ghTime(p.ClosedAt)
	}
	if p.Merged {
		j.MergedAt = ghTime(p.MergedAt)
	}
	if p.MergeCommitSHA != "" {
		m := p.MergeCommitSHA
		j.MergeCommitSHA = &m
	}
	return j
}

// encodedRepo is the repository, or owner's fork of it, as a pull request
// embeds it. Pages of pull requests share a handful of them, so they are
// encoded once per request.
func (snap *repoSnapshot) encodedRepo(s *Server, c *call, owner string) json.RawMessage {
	key := strings.ToLower(owner)
	if j, ok := snap.repoCache[key]; ok {
		return j
	}
	ri := snap.info()
	if !strings.EqualFold(owner, snap.repo.Owner) {
		h := fnv.New32a()
		h.Write([]byte(strings.ToLower(owner + "/" + snap.repo.Name)))
		ri.Repo = Repo{ID: int64(h.Sum32()), Owner: owner, Name: snap.repo.Name, DefaultBranch: snap.repo.DefaultBranch}
		ri.fork = true
	}
	j, err := json.Marshal(s.repoJSON(c, ri, true))
	if err != nil {
		panic(fmt.Sprintf("githubtest: encode repository: %v", err))
	}
	if snap.repoCache == nil {
		snap.repoCache = make(map[string]json.RawMessage)
	}
	snap.repoCache[key] = j
	return j
}

func (s *Server) pullDetailJSON(c *call, snap *repoSnapshot, p PullRequest) pullDetailJSON {
	d := pullDetailJSON{
		pullJSON:       s.pullJSON(c, snap, p),
		Merged:         p.Merged,
		MergeableState: "unknown",
		Commits:        1,
		Additions:      1,
		Deletions:      1,
		ChangedFiles:   1,
	}
	if p.Merged {
		u := s.user(c, s.login, false)
		d.MergedBy = &u
	}
	return d
}
