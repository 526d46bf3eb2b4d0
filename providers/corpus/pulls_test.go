package corpus_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

func pullByNumber(prs []corpus.PullRequest) map[int]corpus.PullRequest {
	m := make(map[int]corpus.PullRequest, len(prs))
	for _, p := range prs {
		m[p.Number] = p
	}
	return m
}

func TestZooKeeperPullRequests(t *testing.T) {
	h := mustZK(t)
	prs := h.PullRequests()
	reach := map[string]map[string]bool{}
	onBranch := func(name string) map[string]bool {
		if m, ok := reach[name]; ok {
			return m
		}
		b, _ := h.Branch(name)
		reach[name] = h.Reachable(b.SHA)
		return reach[name]
	}
	// Distinct N over the last "Closes #N from user/branch" line of each
	// commit, counted independently with a script over the JSONL.
	if len(prs) != 1397 {
		t.Errorf("pull requests = %d, want 1397", len(prs))
	}
	for i, p := range prs {
		if i > 0 && prs[i-1].Number >= p.Number {
			t.Fatalf("not sorted by unique number at %d: %d then %d", i, prs[i-1].Number, p.Number)
		}
		if p.State != corpus.StateMerged || p.Title == "" || p.HeadUser == "" || p.HeadBranch == "" {
			t.Errorf("#%d incomplete: %+v", p.Number, p)
		}
		if !onBranch(p.BaseBranch)[p.MergeCommitSHA] {
			t.Errorf("#%d: merge commit %s not on base %q", p.Number, p.MergeCommitSHA, p.BaseBranch)
		}
		if strings.Contains(p.Body, "Closes #") || strings.Contains(p.Body, "Signed-off-by:") || strings.Contains(p.Body, "\r") {
			t.Errorf("#%d: body keeps trailers: %q", p.Number, p.Body)
		}
	}

	byN := pullByNumber(prs)
	p := byN[2415]
	wantCreated := time.Date(2026, 7, 17, 18, 55, 25, 0, time.UTC)
	wantMerged := time.Date(2026, 7, 17, 18, 55, 25, 0, time.UTC) // 13:55:25-05:00
	if p.Title != "ZOOKEEPER-5064: Upgrade jackson to 2.18.8 to fix CVEs" || p.Body != "" ||
		p.HeadUser != "Kirti2704" || p.HeadBranch != "ZOOKEEPER-5064" || p.BaseBranch != "master" ||
		p.MergeCommitSHA != zkMaster || !p.CreatedAt.Equal(wantCreated) ||
		!p.UpdatedAt.Equal(wantMerged) || !p.MergedAt.Equal(wantMerged) {
		t.Errorf("#2415 = %+v", p)
	}

	// #2406 was merged to master and cherry-picked to branch-3.9 and
	// branch-3.8; the newest commit (branch-3.8, 12:37:27-05:00) wins.
	if p := byN[2406]; p.MergeCommitSHA != "77a09a82f219b52df7c2972cc0742bb605d08730" || p.BaseBranch != "branch-3.8" {
		t.Errorf("#2406 = %s on %s", p.MergeCommitSHA, p.BaseBranch)
	}
	// Branch part after the first '/' is kept verbatim.
	if p := byN[1802]; p.HeadUser != "eolivelli" || p.HeadBranch != "impl/reload4j" {
		t.Errorf("#1802 head = %s / %s", p.HeadUser, p.HeadBranch)
	}
	// CRLF line endings in the message.
	if p := byN[1917]; p.HeadBranch != "ZOOKEEPER-4293" || p.Body != "" {
		t.Errorf("#1917 head = %q body = %q", p.HeadBranch, p.Body)
	}
	// A squashed backport carries the original Closes line; the last one
	// (#2284) is the pull request of the backport commit.
	if p := byN[2284]; p.MergeCommitSHA != "32db318886d355b5cc4b2a824b7093f52638e3a5" || p.HeadBranch != "ZOOKEEPER-4293_38" {
		t.Errorf("#2284 = %+v", p)
	}
	if p := byN[1917]; p.MergeCommitSHA == "32db318886d355b5cc4b2a824b7093f52638e3a5" {
		t.Error("#1917 taken from the backport that only quotes it")
	}
	// "Closes #2221" has no "from user/branch": not a synthesized PR.
	if _, ok := byN[2221]; ok {
		t.Error("#2221 synthesized from a bare Closes line")
	}
	// Squash list and cherry-pick trailers are dropped, the description
	// kept.
	p = byN[501]
	if !strings.HasPrefix(p.Body, "Added metric to count fsyncWarningThresholdMS exceed") ||
		!strings.HasSuffix(p.Body, "zk_fsync_threshold_exceed_count\t0") ||
		strings.Contains(p.Body, "[Norbert Kalmar]") || strings.Contains(p.Body, "cherry picked") ||
		strings.Contains(p.Body, "Author:") || strings.Contains(p.Body, "Reviewers:") {
		t.Errorf("#501 body = %q", p.Body)
	}

	// The result is a copy.
	prs[0].Title = "mutated"
	if h.PullRequests()[0].Title == "mutated" {
		t.Error("PullRequests shares its slice")
	}
}

func TestPullRequestsSynthetic(t *testing.T) {
	b := corpus.NewBuilder()
	root := b.Commit(nil, "init", t0)
	onMaster := b.Commit([]string{root}, "ABC-1: first\n\nWhy it matters.\n\n\nMore.\n\nReviewers: x\nAuthor: alice\nCloses #7 from alice/feature/abc-1", t0.Add(time.Hour))
	onRelease := b.Commit([]string{root}, "ABC-2: backport\n\nCloses #8 from bob/abc-2\n(cherry picked from commit 1234567)\nSigned-off-by: C <c@redacted.invalid>", t0.Add(2*time.Hour))
	tagOnly := b.Commit([]string{root}, "ABC-3: tag only\n\nCloses #9 from carol/abc-3", t0.Add(3*time.Hour))
	older := b.Commit([]string{onMaster}, "ABC-4: older copy\n\nCloses #10 from dan/abc-4", t0.Add(4*time.Hour))
	newer := b.Commit([]string{onRelease}, "ABC-4: newer copy\n\nCloses #10 from dan/abc-4", t0.Add(5*time.Hour))
	b.Branch("master", older)
	b.Branch("aaa-release", newer)
	b.Branch("zzz", newer)
	b.Tag("t", tagOnly)

	byN := pullByNumber(b.Build().PullRequests())
	if len(byN) != 3 {
		t.Fatalf("pulls = %+v, want #7, #8, #10", byN)
	}
	if p := byN[7]; p.Title != "ABC-1: first" || p.Body != "Why it matters.\n\nMore." ||
		p.HeadUser != "alice" || p.HeadBranch != "feature/abc-1" || p.BaseBranch != "master" || p.MergeCommitSHA != onMaster {
		t.Errorf("#7 = %+v", p)
	}
	// Not on master: the first branch by name that contains it.
	if p := byN[8]; p.BaseBranch != "aaa-release" || p.Body != "" {
		t.Errorf("#8 = %+v", p)
	}
	if p := byN[10]; p.MergeCommitSHA != newer || p.Title != "ABC-4: newer copy" || !p.MergedAt.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("#10 = %+v, want the newer commit", p)
	}
}
