package gitlab

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/jiralinkd/jiralinkd/providers"
)

// parse.go verifies and parses inbound GitLab webhook deliveries. Payloads
// are decoded into the few fields jiralinkd uses rather than client-go's
// complete event structs: GitLab disables a hook that answers 4xx, so a type
// change in a field nothing here reads must not turn a delivery into a
// rejected one.

// Request headers of a GitLab webhook delivery.
const (
	HeaderEvent = "X-Gitlab-Event" // "Push Hook", "System Hook", ...
	HeaderToken = "X-Gitlab-Token" // the secret token, sent as configured
	// HeaderIdempotencyKey is the same across retries of one delivery
	// (GitLab 17.4+); HeaderWebhookID carries the same value when the hook
	// has a signing token.
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderEventUUID      = "X-Gitlab-Event-UUID"
	// Standard Webhooks headers sent when the hook has a signing token.
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// SignatureTolerance is how far webhook-timestamp may be from the receiver's
// clock, either way (the Standard Webhooks recommendation). It bounds how
// long a captured delivery can be replayed.
const SignatureTolerance = 5 * time.Minute

// signingTokenPrefix marks a GitLab signing token: "whsec_" followed by the
// standard base64 of the 32-byte HMAC key.
const signingTokenPrefix = "whsec_"

// VerifyToken checks the X-Gitlab-Token header of a delivery against the
// hook's configured secret token. GitLab sends the token itself, not a
// signature, so this is a constant-time comparison (of SHA-256 digests, so
// not even the token's length leaks). An empty secret never verifies: a hook
// without a token must not be accepted by accident. Errors wrap
// providers.ErrBadSignature and never contain either value.
func VerifyToken(secret, header string) error {
	switch {
	case secret == "":
		return fmt.Errorf("%w: no secret token configured", providers.ErrBadSignature)
	case header == "":
		return fmt.Errorf("%w: %s header missing", providers.ErrBadSignature, HeaderToken)
	}
	want, got := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(header))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return fmt.Errorf("%w: %s does not match", providers.ErrBadSignature, HeaderToken)
	}
	return nil
}

// VerifySigned checks a delivery signed with the hook's signing token
// (GitLab's HMAC signing, which follows the Standard Webhooks scheme): the
// webhook-signature header holds one or more space-separated "v1,<base64>"
// entries, each an HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}";
// one matching entry verifies. Entries of other versions are skipped.
//
// secret is the signing token as GitLab shows it, "whsec_<base64>": the
// decoded bytes are the key. A secret without that prefix is used as raw key
// bytes (the Standard Webhooks reference libraries would base64-decode it
// instead; GitLab always issues prefixed tokens). The timestamp (Unix
// seconds) must lie within SignatureTolerance of now, which limits replays.
// Errors wrap providers.ErrBadSignature and never contain the secret.
func VerifySigned(secret string, id, timestamp, signature string, body []byte, now time.Time) error {
	key, err := signingKey(secret)
	if err != nil {
		return err
	}
	switch {
	case id == "":
		return fmt.Errorf("%w: %s header missing", providers.ErrBadSignature, HeaderWebhookID)
	case timestamp == "":
		return fmt.Errorf("%w: %s header missing", providers.ErrBadSignature, HeaderWebhookTimestamp)
	case signature == "":
		return fmt.Errorf("%w: %s header missing", providers.ErrBadSignature, HeaderWebhookSignature)
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not Unix seconds", providers.ErrBadSignature, HeaderWebhookTimestamp)
	}
	if skew := now.Sub(time.Unix(secs, 0)); skew > SignatureTolerance || skew < -SignatureTolerance {
		return fmt.Errorf("%w: %s is %s away from now (tolerance %s)",
			providers.ErrBadSignature, HeaderWebhookTimestamp, skew.Round(time.Second), SignatureTolerance)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	want := mac.Sum(nil)
	for _, entry := range strings.Fields(signature) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(want, got) {
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 entry of %s matches", providers.ErrBadSignature, HeaderWebhookSignature)
}

func signingKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, fmt.Errorf("%w: no signing token configured", providers.ErrBadSignature)
	}
	encoded, ok := strings.CutPrefix(secret, signingTokenPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(key) == 0 {
		// The secret is misconfigured; say so without showing it.
		return nil, fmt.Errorf("%w: configured signing token is not %s followed by base64",
			providers.ErrBadSignature, signingTokenPrefix)
	}
	return key, nil
}

// ParseWebhook turns one delivery, given by its X-Gitlab-Event header and
// body, into a providers.Event. It is pure: no I/O, no clock.
//
//   - Push Hook and Tag Push Hook (and the push and tag_push system hooks)
//     give EventPush. Refs other than branches and tags are ignored.
//   - Merge Request Hook (and merge request system hooks) gives
//     EventPullRequest.
//   - System Hook project_destroy gives EventRepoDeleted; project_rename and
//     project_transfer give EventRepoRenamed; repository_update gives
//     EventPush for its first branch or tag change. Group webhooks' Project
//     Hook is read the same way.
//   - Pipeline Hook gives EventRun; Deployment Hook gives EventDeployment.
//     Pipeline variables and job (build) details are never read.
//   - Every other event type, and system hooks about users, groups, keys or
//     project creation and settings, return a *providers.IgnoredError.
//
// A body that is not JSON, or lacks the project id or what the kind needs,
// returns an error wrapping providers.ErrBadPayload that names the field.
func ParseWebhook(eventType string, body []byte) (providers.Event, error) {
	switch gl.EventType(eventType) {
	case gl.EventTypePush, gl.EventTypeTagPush:
		return parsePush(eventType, body)
	case gl.EventTypeMergeRequest:
		return parseMergeRequest(eventType, body)
	case gl.EventTypePipeline:
		return parsePipeline(eventType, body)
	case gl.EventTypeDeployment:
		return parseDeployment(eventType, body)
	case gl.EventTypeSystemHook:
		return parseSystemHook(eventType, body)
	case gl.EventTypeProject:
		return parseProject(eventType, body)
	case gl.EventTypeServiceHook:
		// Integrations (not webhooks) use this type; object_kind tells.
		var h hookHead
		if err := decodeHook(eventType, body, &h); err != nil {
			return providers.Event{}, err
		}
		switch h.ObjectKind {
		case "push", "tag_push":
			return parsePush(eventType, body)
		case "merge_request":
			return parseMergeRequest(eventType, body)
		case "pipeline":
			return parsePipeline(eventType, body)
		case "deployment":
			return parseDeployment(eventType, body)
		}
		return providers.Event{}, ignored(eventType, fmt.Sprintf("object_kind %q not used", h.ObjectKind))
	case "":
		return providers.Event{}, fmt.Errorf("%w: %s header missing", providers.ErrBadPayload, HeaderEvent)
	}
	return providers.Event{}, ignored(eventType, "event type not used")
}

// hookProject is the project object of push and merge request payloads.
// System hooks omit its id (project_id is top-level instead).
type hookProject struct {
	ID                int64  `json:"id"`
	PathWithNamespace string `json:"path_with_namespace"`
	WebURL            string `json:"web_url"`
	DefaultBranch     string `json:"default_branch"`
}

func (p *hookProject) repo(id int64) providers.Repo {
	return providers.Repo{
		ID:            id,
		FullName:      p.PathWithNamespace,
		HTMLURL:       strings.TrimSuffix(p.WebURL, "/"),
		DefaultBranch: p.DefaultBranch,
	}
}

type hookCommit struct {
	ID        string `json:"id"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
	URL       string `json:"url"`
	Author    struct {
		Name string `json:"name"`
	} `json:"author"`
}

// pushHook is a Push Hook or Tag Push Hook body, or a push or tag_push
// system hook.
type pushHook struct {
	Before            string       `json:"before"`
	After             string       `json:"after"`
	Ref               string       `json:"ref"`
	ProjectID         int64        `json:"project_id"`
	Project           hookProject  `json:"project"`
	Commits           []hookCommit `json:"commits"`
	TotalCommitsCount int          `json:"total_commits_count"`
}

type mergeRequestHook struct {
	User struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
	} `json:"user"`
	Project          hookProject `json:"project"`
	ObjectAttributes struct {
		IID             int64  `json:"iid"`
		Title           string `json:"title"`
		Description     string `json:"description"`
		SourceBranch    string `json:"source_branch"`
		TargetBranch    string `json:"target_branch"`
		State           string `json:"state"`
		AuthorID        int64  `json:"author_id"`
		TargetProjectID int64  `json:"target_project_id"`
		CreatedAt       string `json:"created_at"`
		UpdatedAt       string `json:"updated_at"`
		URL             string `json:"url"`
		Action          string `json:"action"`
	} `json:"object_attributes"`
}

// hookHead is what tells system hook (and Service Hook) bodies apart.
type hookHead struct {
	EventName  string `json:"event_name"`
	ObjectKind string `json:"object_kind"`
}

// projectHook is a project_* system hook or a group webhook's Project Hook.
type projectHook struct {
	EventName            string `json:"event_name"`
	ProjectID            int64  `json:"project_id"`
	PathWithNamespace    string `json:"path_with_namespace"`
	OldPathWithNamespace string `json:"old_path_with_namespace"`
}

// repositoryUpdateHook is a repository_update system hook.
type repositoryUpdateHook struct {
	ProjectID int64       `json:"project_id"`
	Project   hookProject `json:"project"`
	Changes   []struct {
		Before string `json:"before"`
		After  string `json:"after"`
		Ref    string `json:"ref"`
	} `json:"changes"`
}

func parseSystemHook(eventType string, body []byte) (providers.Event, error) {
	var h hookHead
	if err := decodeHook(eventType, body, &h); err != nil {
		return providers.Event{}, err
	}
	switch h.EventName {
	case "push", "tag_push":
		return parsePush(eventType, body)
	case "repository_update":
		return parseRepositoryUpdate(eventType, body)
	case "project_destroy", "project_rename", "project_transfer":
		return parseProject(eventType, body)
	case "":
		// Merge request system hooks carry object_kind, not event_name.
		if h.ObjectKind == "merge_request" {
			return parseMergeRequest(eventType, body)
		}
		return providers.Event{}, ignored(eventType, fmt.Sprintf("object_kind %q not used", h.ObjectKind))
	}
	return providers.Event{}, ignored(eventType, fmt.Sprintf("event_name %q changes nothing jiralinkd indexes", h.EventName))
}

func parsePush(eventType string, body []byte) (providers.Event, error) {
	var h pushHook
	if err := decodeHook(eventType, body, &h); err != nil {
		return providers.Event{}, err
	}
	id := h.ProjectID
	if id == 0 {
		id = h.Project.ID
	}
	if id <= 0 {
		return providers.Event{}, badPayload(eventType, "project_id missing")
	}
	ev, err := refEvent(eventType, h.Ref, h.Before, h.After)
	if err != nil {
		return providers.Event{}, err
	}
	ev.Repo = h.Project.repo(id)
	if len(h.Commits) > 0 {
		ev.Commits = make([]providers.Commit, len(h.Commits))
	}
	for i, c := range h.Commits {
		if c.ID == "" {
			return providers.Event{}, badPayload(eventType, fmt.Sprintf("commits[%d].id missing", i))
		}
		ev.Commits[i] = providers.Commit{
			SHA:        c.ID,
			Message:    c.Message,
			AuthorName: c.Author.Name,
			AuthorDate: parseHookTime(c.Timestamp),
			HTMLURL:    c.URL,
		}
	}
	// GitLab lists at most 20 commits; total_commits_count is the real number.
	ev.TotalCommits = max(h.TotalCommitsCount, len(ev.Commits))
	return ev, nil
}

// parseRepositoryUpdate reads the system hook GitLab sends once per push,
// also when the push changed too many refs for push hooks to fire. An Event
// names one ref, so the first branch or tag change is reported; a sync of
// the repository lists all its branches and tags anyway.
func parseRepositoryUpdate(eventType string, body []byte) (providers.Event, error) {
	var h repositoryUpdateHook
	if err := decodeHook(eventType, body, &h); err != nil {
		return providers.Event{}, err
	}
	id := h.ProjectID
	if id == 0 {
		id = h.Project.ID
	}
	if id <= 0 {
		return providers.Event{}, badPayload(eventType, "project_id missing")
	}
	for _, c := range h.Changes {
		if _, _, ok := splitRef(c.Ref); !ok {
			continue
		}
		ev, err := refEvent(eventType, c.Ref, c.Before, c.After)
		if err != nil {
			return providers.Event{}, err
		}
		ev.Repo = h.Project.repo(id)
		return ev, nil
	}
	return providers.Event{}, ignored(eventType, "repository_update changes no branch or tag")
}

// refEvent is the ref part of an EventPush.
func refEvent(eventType, ref, before, after string) (providers.Event, error) {
	if ref == "" {
		return providers.Event{}, badPayload(eventType, "ref missing")
	}
	name, typ, ok := splitRef(ref)
	if !ok {
		return providers.Event{}, ignored(eventType, fmt.Sprintf("ref %q is neither a branch nor a tag", ref))
	}
	if before == "" || after == "" {
		return providers.Event{}, badPayload(eventType, "before or after missing")
	}
	return providers.Event{
		Kind:    providers.EventPush,
		Ref:     name,
		RefType: typ,
		Before:  before,
		After:   after,
		Created: isZeroSHA(before),
		Deleted: isZeroSHA(after),
	}, nil
}

func splitRef(ref string) (string, providers.RefType, bool) {
	if name, ok := strings.CutPrefix(ref, "refs/heads/"); ok && name != "" {
		return name, providers.RefBranch, true
	}
	if name, ok := strings.CutPrefix(ref, "refs/tags/"); ok && name != "" {
		return name, providers.RefTag, true
	}
	return "", "", false
}

// isZeroSHA reports whether sha is Git's null object id (40 zeros for SHA-1,
// 64 for SHA-256 repositories).
func isZeroSHA(sha string) bool {
	return sha != "" && strings.Trim(sha, "0") == ""
}

func parseMergeRequest(eventType string, body []byte) (providers.Event, error) {
	var h mergeRequestHook
	if err := decodeHook(eventType, body, &h); err != nil {
		return providers.Event{}, err
	}
	a := &h.ObjectAttributes
	id := h.Project.ID
	if id == 0 {
		id = a.TargetProjectID
	}
	if id <= 0 {
		return providers.Event{}, badPayload(eventType, "project.id missing")
	}
	if a.IID <= 0 || a.IID > math.MaxInt32 { // GitLab iids are 32-bit
		return providers.Event{}, badPayload(eventType, "object_attributes.iid missing or out of range")
	}
	var state providers.PullRequestState
	switch a.State {
	case "opened", "locked": // locked: being merged right now
		state = providers.PullRequestOpen
	case "closed":
		state = providers.PullRequestClosed
	case "merged":
		state = providers.PullRequestMerged
	default:
		return providers.Event{}, badPayload(eventType, fmt.Sprintf("object_attributes.state %q unknown", a.State))
	}
	pr := &providers.PullRequest{
		Number:     int(a.IID),
		Title:      a.Title,
		Body:       a.Description,
		HeadBranch: a.SourceBranch,
		BaseBranch: a.TargetBranch,
		State:      state,
		CreatedAt:  parseHookTime(a.CreatedAt),
		UpdatedAt:  parseHookTime(a.UpdatedAt),
		HTMLURL:    a.URL,
	}
	// "user" is who triggered the event, not necessarily the author (the
	// payload has only author_id): use it when it is known to be the author.
	if (h.User.ID != 0 && h.User.ID == a.AuthorID) || (h.User.ID == 0 && a.Action == "open") {
		pr.Author = h.User.Username
	}
	// The payload carries no merge time; the merge event's update time is it.
	if state == providers.PullRequestMerged && a.Action == "merge" {
		pr.MergedAt = pr.UpdatedAt
	}
	return providers.Event{
		Kind:        providers.EventPullRequest,
		Action:      a.Action,
		Repo:        h.Project.repo(id),
		PullRequest: pr,
	}, nil
}

// parseProject reads project_* system hooks (and group webhooks' Project
// Hook), which carry project_id and path_with_namespace but no web URL.
func parseProject(eventType string, body []byte) (providers.Event, error) {
	var h projectHook
	if err := decodeHook(eventType, body, &h); err != nil {
		return providers.Event{}, err
	}
	var kind providers.EventKind
	switch h.EventName {
	case "project_destroy":
		kind = providers.EventRepoDeleted
	case "project_rename", "project_transfer":
		kind = providers.EventRepoRenamed
	default:
		return providers.Event{}, ignored(eventType, fmt.Sprintf("event_name %q changes nothing jiralinkd indexes", h.EventName))
	}
	if h.ProjectID <= 0 {
		return providers.Event{}, badPayload(eventType, "project_id missing")
	}
	if kind == providers.EventRepoRenamed && h.PathWithNamespace == "" {
		return providers.Event{}, badPayload(eventType, "path_with_namespace missing")
	}
	return providers.Event{
		Kind:        kind,
		Action:      h.EventName,
		Repo:        providers.Repo{ID: h.ProjectID, FullName: h.PathWithNamespace},
		OldFullName: h.OldPathWithNamespace,
	}, nil
}

// parseHookTime reads the time formats GitLab payloads use
// ("2013-12-03T17:23:34Z", "2011-12-12T14:27:31+02:00",
// "2013-12-03 17:23:34 UTC"). A missing or unreadable time is zero: it is
// informative only, and not worth rejecting a delivery for. Other zone
// abbreviations are refused rather than misread as UTC.
func parseHookTime(s string) time.Time {
	for _, layout := range [...]string{time.RFC3339, "2006-01-02 15:04:05 UTC", "2006-01-02 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func decodeHook(eventType string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s: %w", providers.ErrBadPayload, eventType, err)
	}
	return nil
}

func badPayload(eventType, reason string) error {
	return fmt.Errorf("%w: %s: %s", providers.ErrBadPayload, eventType, reason)
}

func ignored(eventType, reason string) error {
	return &providers.IgnoredError{EventType: eventType, Reason: reason}
}
