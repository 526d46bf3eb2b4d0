package github

// parse.go turns inbound GitHub webhook deliveries into providers.Event: it
// verifies the signature, extracts the JSON payload and maps the handful of
// event types jiralinkd uses. Like convert.go it is a place where go-github
// types become domain types; none of them leave this file.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers"
)

// signaturePrefix starts every X-Hub-Signature-256 value.
const signaturePrefix = "sha256="

// VerifySignature checks a delivery's X-Hub-Signature-256 header
// ("sha256=" + lowercase hex HMAC-SHA256 of the raw body keyed with the hook
// secret) against body, comparing in constant time.
//
// It fails closed: a missing or malformed header, a mismatch, and an empty
// secret (an HMAC keyed with nothing proves nothing) all return an error
// wrapping providers.ErrBadSignature. Errors never contain the secret, the
// expected MAC or the received one.
func VerifySignature(secret []byte, body []byte, signatureHeader string) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no webhook secret configured", providers.ErrBadSignature)
	}
	if signatureHeader == "" {
		return fmt.Errorf("%w: X-Hub-Signature-256 header missing", providers.ErrBadSignature)
	}
	hexMAC, ok := strings.CutPrefix(signatureHeader, signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: X-Hub-Signature-256 does not start with %q", providers.ErrBadSignature, signaturePrefix)
	}
	if len(hexMAC) != hex.EncodedLen(sha256.Size) {
		return fmt.Errorf("%w: X-Hub-Signature-256 is not a SHA-256 MAC (wrong length)", providers.ErrBadSignature)
	}
	got, err := hex.DecodeString(hexMAC)
	if err != nil {
		return fmt.Errorf("%w: X-Hub-Signature-256 is not hexadecimal", providers.ErrBadSignature)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: X-Hub-Signature-256 does not match the body", providers.ErrBadSignature)
	}
	return nil
}

// WebhookPayload returns the JSON payload of a delivery body given its
// Content-Type: the body itself for application/json, the "payload" form
// field for application/x-www-form-urlencoded (the hook's legacy "form"
// content type). Media type parameters such as charset are ignored. Any other
// or unparsable content type, or a form without a payload field, returns an
// error wrapping providers.ErrBadPayload. The signature covers the raw body,
// so verify it before calling this.
func WebhookPayload(contentType string, body []byte) ([]byte, error) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("%w: Content-Type %.64q does not parse", providers.ErrBadPayload, contentType)
	}
	switch mediaType {
	case "application/json":
		return body, nil
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: form body does not parse", providers.ErrBadPayload)
		}
		payload := form.Get("payload")
		if payload == "" {
			return nil, fmt.Errorf("%w: form body has no payload field", providers.ErrBadPayload)
		}
		return []byte(payload), nil
	default:
		return nil, fmt.Errorf("%w: unsupported Content-Type %.64q", providers.ErrBadPayload, mediaType)
	}
}

// ParseWebhook maps one delivery, given its X-GitHub-Event header value and
// JSON payload, to a providers.Event. It is a pure function and never panics.
//
//   - ping → EventPing (Repo is zero for organization hooks).
//   - push → EventPush for refs/heads/* and refs/tags/*, with the commits
//     the payload carries (no parents: push payloads do not list them).
//   - create, delete → EventRefCreated, EventRefDeleted for branches and
//     tags; ref_type "repository" is ignored.
//   - pull_request → EventPullRequest for every action. Even actions that
//     change nothing jiralinkd indexes (labeled, review_requested, ...) are
//     returned: an event is only a hint for a targeted, idempotent sync, and
//     a stale allowlist of actions would silently drop a future one that
//     matters.
//   - pull_request_review → EventPullRequest with Action "review_<action>".
//   - workflow_run → EventRun (every action); deployment and
//     deployment_status → EventDeployment.
//   - repository deleted → EventRepoDeleted; renamed and transferred →
//     EventRepoRenamed; archived and unarchived → EventRepoArchived; other
//     actions are ignored.
//
// Every other event type, and a push to a ref that is neither a branch nor a
// tag, returns a *providers.IgnoredError (errors.Is providers.ErrIgnored).
// A missing event type, a payload that does not decode, or one lacking what
// its event needs (repository.id, ref, pull_request.number, ...) returns an
// error wrapping providers.ErrBadPayload that names the field. Every event
// except ping has a non-zero Repo.ID.
func ParseWebhook(eventType string, payload []byte) (providers.Event, error) {
	switch eventType {
	case "ping":
		return parsePing(payload)
	case "push":
		return parsePush(payload)
	case "create":
		ev, err := decodePayload[gh.CreateEvent](eventType, payload)
		if err != nil {
			return providers.Event{}, err
		}
		return refEvent(eventType, providers.EventRefCreated, ev.Repo, ev.GetRef(), ev.GetRefType())
	case "delete":
		ev, err := decodePayload[gh.DeleteEvent](eventType, payload)
		if err != nil {
			return providers.Event{}, err
		}
		return refEvent(eventType, providers.EventRefDeleted, ev.Repo, ev.GetRef(), ev.GetRefType())
	case "pull_request":
		return parsePullRequest(payload)
	case "pull_request_review":
		return parsePullRequestReview(payload)
	case "repository":
		return parseRepository(payload)
	case "workflow_run":
		return parseWorkflowRun(payload)
	case "deployment":
		return parseDeployment(payload)
	case "deployment_status":
		return parseDeploymentStatus(payload)
	case "":
		return providers.Event{}, fmt.Errorf("%w: X-GitHub-Event is empty", providers.ErrBadPayload)
	default:
		return providers.Event{}, &providers.IgnoredError{EventType: eventType, Reason: "event type not used by jiralinkd"}
	}
}

func parsePing(payload []byte) (providers.Event, error) {
	ev, err := decodePayload[gh.PingEvent]("ping", payload)
	if err != nil {
		return providers.Event{}, err
	}
	// Organization and app hooks ping without a repository; convertRepo
	// yields the zero Repo for nil.
	return providers.Event{Kind: providers.EventPing, Repo: convertRepo(ev.Repo)}, nil
}

func parsePush(payload []byte) (providers.Event, error) {
	const eventType = "push"
	ev, err := decodePayload[gh.PushEvent](eventType, payload)
	if err != nil {
		return providers.Event{}, err
	}
	if ev.Repo.GetID() == 0 {
		return providers.Event{}, missing(eventType, "repository.id")
	}
	fullRef := ev.GetRef()
	var (
		ref     string
		refType providers.RefType
	)
	switch {
	case fullRef == "":
		return providers.Event{}, missing(eventType, "ref")
	case strings.HasPrefix(fullRef, "refs/heads/"):
		ref, refType = strings.TrimPrefix(fullRef, "refs/heads/"), providers.RefBranch
	case strings.HasPrefix(fullRef, "refs/tags/"):
		ref, refType = strings.TrimPrefix(fullRef, "refs/tags/"), providers.RefTag
	default:
		return providers.Event{}, &providers.IgnoredError{
			EventType: eventType,
			Reason:    fmt.Sprintf("ref %.128q is neither a branch nor a tag", fullRef),
		}
	}
	if ref == "" {
		return providers.Event{}, fmt.Errorf("%w: push: ref %.128q has an empty name", providers.ErrBadPayload, fullRef)
	}
	commits, err := convertPushCommits(ev.Commits)
	if err != nil {
		return providers.Event{}, err
	}
	return providers.Event{
		Kind:         providers.EventPush,
		Repo:         convertPushRepo(ev.Repo),
		Ref:          ref,
		RefType:      refType,
		Before:       ev.GetBefore(),
		After:        ev.GetAfter(),
		Created:      ev.GetCreated(),
		Deleted:      ev.GetDeleted(),
		Forced:       ev.GetForced(),
		Commits:      commits,
		TotalCommits: len(commits),
	}, nil
}

// refEvent builds the event of a create or delete delivery, whose ref is
// already the short name.
func refEvent(eventType string, kind providers.EventKind, repo *gh.Repository, ref, refType string) (providers.Event, error) {
	var rt providers.RefType
	switch refType {
	case "branch":
		rt = providers.RefBranch
	case "tag":
		rt = providers.RefTag
	case "repository":
		return providers.Event{}, &providers.IgnoredError{EventType: eventType, Reason: "ref_type repository (a repository, not a branch or tag)"}
	case "":
		return providers.Event{}, missing(eventType, "ref_type")
	default:
		return providers.Event{}, fmt.Errorf("%w: %s: unknown ref_type %.32q", providers.ErrBadPayload, eventType, refType)
	}
	if repo.GetID() == 0 {
		return providers.Event{}, missing(eventType, "repository.id")
	}
	if ref == "" {
		return providers.Event{}, missing(eventType, "ref")
	}
	return providers.Event{Kind: kind, Repo: convertRepo(repo), Ref: ref, RefType: rt}, nil
}

func parsePullRequest(payload []byte) (providers.Event, error) {
	const eventType = "pull_request"
	ev, err := decodePayload[gh.PullRequestEvent](eventType, payload)
	if err != nil {
		return providers.Event{}, err
	}
	return pullRequestEvent(eventType, ev.GetAction(), ev.Repo, ev.PullRequest)
}

func parsePullRequestReview(payload []byte) (providers.Event, error) {
	const eventType = "pull_request_review"
	ev, err := decodePayload[gh.PullRequestReviewEvent](eventType, payload)
	if err != nil {
		return providers.Event{}, err
	}
	return pullRequestEvent(eventType, "review_"+ev.GetAction(), ev.Repo, ev.PullRequest)
}

func pullRequestEvent(eventType, action string, repo *gh.Repository, pull *gh.PullRequest) (providers.Event, error) {
	if repo.GetID() == 0 {
		return providers.Event{}, missing(eventType, "repository.id")
	}
	if pull.GetNumber() == 0 {
		return providers.Event{}, missing(eventType, "pull_request.number")
	}
	pr := convertPull(pull)
	// convertPull goes by merged_at, which the REST list always carries;
	// webhook payloads also say "merged": true, so honour either.
	if pull.GetMerged() {
		pr.State = providers.PullRequestMerged
	}
	return providers.Event{
		Kind:        providers.EventPullRequest,
		Action:      action,
		Repo:        convertRepo(repo),
		PullRequest: &pr,
	}, nil
}

func parseRepository(payload []byte) (providers.Event, error) {
	const eventType = "repository"
	ev, err := decodePayload[gh.RepositoryEvent](eventType, payload)
	if err != nil {
		return providers.Event{}, err
	}
	action := ev.GetAction()
	switch action {
	case "deleted", "renamed", "transferred", "archived", "unarchived":
	default:
		return providers.Event{}, &providers.IgnoredError{
			EventType: eventType,
			Reason:    fmt.Sprintf("action %.32q changes nothing jiralinkd indexes", action),
		}
	}
	if ev.Repo.GetID() == 0 {
		return providers.Event{}, missing(eventType, "repository.id")
	}
	e := providers.Event{Action: action, Repo: convertRepo(ev.Repo)}
	switch action {
	case "deleted":
		e.Kind = providers.EventRepoDeleted
	case "renamed":
		oldName := ev.GetChanges().GetRepo().GetName().GetFrom()
		if oldName == "" {
			return providers.Event{}, missing(eventType, "changes.repository.name.from")
		}
		owner, _ := repoOwnerAndName(ev.Repo)
		if owner == "" {
			return providers.Event{}, missing(eventType, "repository.owner.login")
		}
		e.Kind, e.OldFullName = providers.EventRepoRenamed, owner+"/"+oldName
	case "transferred":
		from := ev.GetChanges().GetOwner().GetOwnerInfo()
		oldOwner := from.GetUser().GetLogin()
		if oldOwner == "" {
			oldOwner = from.GetOrg().GetLogin()
		}
		if oldOwner == "" {
			return providers.Event{}, missing(eventType, "changes.owner.from.user.login or changes.owner.from.organization.login")
		}
		_, name := repoOwnerAndName(ev.Repo)
		if name == "" {
			return providers.Event{}, missing(eventType, "repository.name")
		}
		e.Kind, e.OldFullName = providers.EventRepoRenamed, oldOwner+"/"+name
	default: // archived, unarchived
		// The action is authoritative: it is what just happened.
		e.Kind, e.Repo.Archived = providers.EventRepoArchived, action == "archived"
	}
	return e, nil
}

// repoOwnerAndName returns the repository's owner login and name, falling
// back to the halves of full_name.
func repoOwnerAndName(r *gh.Repository) (owner, name string) {
	owner, name = r.GetOwner().GetLogin(), r.GetName()
	if o, n, ok := strings.Cut(r.GetFullName(), "/"); ok {
		if owner == "" {
			owner = o
		}
		if name == "" {
			name = n
		}
	}
	return owner, name
}

// convertPushRepo maps a push payload's repository, which has its own shape
// (and, in the legacy pre-2014 format, no full_name and an owner with only
// name and email).
func convertPushRepo(r *gh.PushEventRepository) providers.Repo {
	fullName := r.GetFullName()
	if fullName == "" && r.GetName() != "" {
		owner := r.GetOwner().GetLogin()
		if owner == "" {
			owner = r.GetOwner().GetName()
		}
		if owner != "" {
			fullName = owner + "/" + r.GetName()
		}
	}
	defaultBranch := r.GetDefaultBranch()
	if defaultBranch == "" {
		defaultBranch = r.GetMasterBranch()
	}
	return providers.Repo{
		ID:            r.GetID(),
		FullName:      fullName,
		HTMLURL:       strings.TrimSuffix(r.GetHTMLURL(), "/"),
		DefaultBranch: defaultBranch,
		Archived:      r.GetArchived(),
	}
}

// convertPushCommits maps a push payload's commits, oldest first as GitHub
// sends them. A commit without an id is refused: the indexer keys on it.
func convertPushCommits(in []*gh.HeadCommit) ([]providers.Commit, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]providers.Commit, 0, len(in))
	for i, c := range in {
		if c.GetID() == "" {
			return nil, fmt.Errorf("%w: push: commits[%d].id missing", providers.ErrBadPayload, i)
		}
		out = append(out, providers.Commit{
			SHA:         c.GetID(),
			Message:     c.GetMessage(),
			AuthorName:  c.GetAuthor().GetName(),
			AuthorLogin: c.GetAuthor().GetLogin(),
			AuthorDate:  timeOf(c.Timestamp),
			HTMLURL:     c.GetURL(),
		})
	}
	return out, nil
}

func missing(eventType, field string) error {
	return fmt.Errorf("%w: %s: %s missing", providers.ErrBadPayload, eventType, field)
}

// decodePayload decodes payload into a new T. Any failure wraps
// providers.ErrBadPayload.
//
// go-github v62 types custom_properties as map[string]string, but GitHub
// sends an array for a multi-select property (google/go-github#3229, fixed
// only in v64), which would make every delivery from such a repository
// undecodable. jiralinkd never reads custom properties, so when that field
// is the problem the payload is decoded again without it.
func decodePayload[T any](eventType string, payload []byte) (*T, error) {
	v := new(T)
	err := json.Unmarshal(payload, v)
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && strings.Contains(typeErr.Field, "custom_properties") {
		if stripped, serr := stripCustomProperties(payload); serr == nil {
			v = new(T)
			err = json.Unmarshal(stripped, v)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", providers.ErrBadPayload, eventType, err)
	}
	return v, nil
}

// stripCustomProperties re-encodes a JSON document without any object
// member named custom_properties. Numbers keep their exact text.
func stripCustomProperties(payload []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	dropKey(doc, "custom_properties")
	return json.Marshal(doc)
}

func dropKey(v any, key string) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, key)
		for _, e := range v {
			dropKey(e, key)
		}
	case []any:
		for _, e := range v {
			dropKey(e, key)
		}
	}
}
