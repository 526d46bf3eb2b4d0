package redact

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The fake credentials below are assembled at run time (prefix + generated
// body) so that this file itself does not trip secret scanners, gitleaks
// and GitHub push protection among them. None of them is or was valid.

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowHex = "0123456789abcdef"
	b64    = alnum + "+/"
)

// gen returns n characters of alphabet, deterministically per seed.
func gen(seed uint64, alphabet string, n int) string {
	rng := rand.New(rand.NewPCG(seed, 0x6a69726c))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func newRedactor(t testing.TB) *Redactor {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fakePrivateKey is a PEM block of the right shape with a random body.
func fakePrivateKey() string {
	var body strings.Builder
	for i := range 5 {
		body.WriteString(gen(uint64(100+i), b64, 64))
		body.WriteByte('\n')
	}
	return "-----BEGIN RSA " + "PRIVATE KEY-----\n" + body.String() + "-----END RSA " + "PRIVATE KEY-----"
}

// The JWT of jwt.io's example (HS256, "John Doe"): public, signed with the
// documented demo key.
const exampleJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" +
	".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ" +
	".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

func TestRedactReplacesEachFormatAndNothingElse(t *testing.T) {
	tests := []struct {
		name, rule     string
		before, secret string
		after          string
	}{
		{"AWS access key id", "aws-access-token", "ZOOKEEPER-1 rotate key ", "AKIA" + "Z7QW2XK4VM3PLN5R", " (old one)"},
		{"AWS temporary key id", "aws-access-token", "id=", "ASIA" + "Q3MZ5XW7KP2RT4VN", ""},
		{"GCP API key", "gcp-api-key", "maps key ", "AIza" + gen(1, alnum+"-_", 35), " leaked"},
		{"GitHub classic PAT", "github-pat", "token ", "ghp_" + gen(2, alnum, 36), ""},
		{"GitHub fine-grained PAT", "github-fine-grained-pat", "GH_TOKEN=", "github_pat_" + gen(3, alnum+"_", 82), "\nnext line"},
		{"GitHub OAuth token", "github-oauth", "Bearer ", "gho_" + gen(4, alnum, 36), "."},
		{"GitHub app token", "github-app-token", "", "ghs_" + gen(5, alnum, 36), " expired"},
		{"GitLab PAT", "gitlab-pat", "PRIVATE-TOKEN: ", "glpat-" + gen(6, alnum+"-_", 20), ""},
		{"Slack bot token", "slack-bot-token", "SLACK_BOT_TOKEN=", "xoxb-" + gen(7, "0123456789", 13) + "-" + gen(8, "0123456789", 13) + "-" + gen(9, alnum, 24), " in CI"},
		{"Slack user token", "slack-user-token", "user token ", "xoxp-" + gen(10, "0123456789", 12) + "-" + gen(11, "0123456789", 12) + "-" + gen(12, "0123456789", 12) + "-" + gen(13, alnum, 32), ""},
		{"Slack webhook", "slack-webhook-url", "notify ", "https://hooks.slack." + "com/services/" + gen(14, alnum, 44), " on failure"},
		{"Atlassian API token", "atlassian-api-token", "JIRA_API_TOKEN=", "ATATT3" + gen(15, alnum+"_-", 186), ""},
		{"npm token", "npm-access-token", "//registry.npmjs.org/:_authToken=", "npm_" + gen(16, alnum, 36), ""},
		{"RSA private key block", "private-key", "oops, committed the key:\n", fakePrivateKey(), "\nplease rotate"},
		{"JWT", "jwt", "Authorization: Bearer ", exampleJWT, " works"},
		{"password in URL", "url-password", "clone https://deploy:", "hunter2", "@git.example.com/acme/api.git"},
		{"password in URL, no user", "url-password", "redis://:", "s3cr3t-Pa55", "@cache:6379/0"},
		{"password= assignment", "password-assignment", "start with password=", "hunter2", " and retry"},
		{"passwd: YAML", "password-assignment", "db:\n  passwd: ", "hunter2", "\n  user: app"},
		{"quoted JSON password", "password-assignment", `{"db_password": "`, "c0rrect horse!", `"}`},
		{"keystore password property", "password-assignment", "-Dzookeeper.ssl.keyStore.password=", "Ks-2024#prod", " -Dfoo=bar"},
		{"curl basic auth", "curl-auth-user", "repro: curl -u ", "admin:Xy7pQ2vR", " https://jira.example.com/rest/api/2/myself"},
	}
	r := newRedactor(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.before + tt.secret + tt.after
			got, fs := r.Redact(in)
			want := tt.before + "[REDACTED:" + tt.rule + "]" + tt.after
			if got != want {
				t.Errorf("Redact:\n got %q\nwant %q", got, want)
			}
			wantF := []Finding{{Rule: tt.rule, Start: len(tt.before), End: len(tt.before) + len(tt.secret)}}
			if !slices.Equal(fs, wantF) {
				t.Errorf("findings %+v, want %+v", fs, wantF)
			}
			if strings.Contains(got, tt.secret) {
				t.Error("the secret is still in the output")
			}
		})
	}
}

func TestRedactLeavesNonSecretsAlone(t *testing.T) {
	tests := []struct{ name, text string }{
		// gitleaks' aws-access-token allowlist: AWS's documentation keys
		// end in EXAMPLE and are not credentials.
		{"AWS documentation key id", "aws_access_key_id = AKIA" + "IOSFODNN7EXAMPLE"},
		{"entropy below the rule's threshold", "ghp_" + strings.Repeat("a", 36)},
		{"global stopword", "ghp_" + "abcdefghijklmnopqrstuvwxyz" + "0123456789"},
		{"placeholder password", "-Dzookeeper.ssl.trustStore.password=password -Dzookeeper.client.secure=true"},
		{"password as a word", "Password: must not be empty"},
		{"plural", "Passwords: are now hashed with SHA-256"},
		{"hidden", "zookeeper_init always reports sessionPasswd=<hidden>."},
		{"environment variable", "password=$DB_PASSWORD"},
		{"template", "password: ${DB_PASSWORD}"},
		{"comparison", "if (password == null) return;"},
		{"ZooKeeper digest ACL", "setAcl /myapp-1 auth:username1:password1:crwad"},
		{"placeholder URL password", "https://user:password@host.example.com/"},
		{"svn URL with revision", "git-svn-id: https://svn.apache.org/repos/asf/zookeeper/trunk@1534587 13f79535-47bb-0310-9956-ffa450edef68"},
		{"scp-like git URL", "git@github.com:apache/zookeeper.git"},
		{"port without credentials", "connect to http://localhost:8080/path@v1"},
		{"issue keys and hashes", "ZOOKEEPER-4711: fix UTF-8 and SHA-256, see CVE-2024-1234 (53a78e36f99602162643303ab330377fc383b41f)"},
		{"empty", ""},
	}
	r := newRedactor(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fs := r.Redact(tt.text)
			if got != tt.text || fs != nil {
				t.Errorf("Redact(%q) = %q, %+v; want it unchanged", tt.text, got, fs)
			}
		})
	}
}

func TestRedactSeveralAndOverlapping(t *testing.T) {
	r := newRedactor(t)
	gh := "ghs_" + gen(20, alnum, 36)
	// The app token is also the URL's password: one finding, under the
	// rule evaluated first (gitleaks' rules precede jiralinkd's).
	in := "push https://x-access-token:" + gh + "@github.com/acme/api.git and password=hunter2"
	got, fs := r.Redact(in)
	want := "push https://x-access-token:[REDACTED:github-app-token]@github.com/acme/api.git and password=[REDACTED:password-assignment]"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	start := strings.Index(in, gh)
	wantF := []Finding{
		{Rule: "github-app-token", Start: start, End: start + len(gh)},
		{Rule: "password-assignment", Start: len(in) - len("hunter2"), End: len(in)},
	}
	if !slices.Equal(fs, wantF) {
		t.Errorf("findings %+v, want %+v", fs, wantF)
	}
}

func TestMerge(t *testing.T) {
	got := merge([]Finding{
		{"c", 30, 40},
		{"b", 5, 12},
		{"a", 5, 20}, // same start, longer: wins
		{"d", 18, 25},
		{"e", 25, 28}, // touching is not overlapping
	})
	want := []Finding{{"a", 5, 25}, {"e", 25, 28}, {"c", 30, 40}}
	if !slices.Equal(got, want) {
		t.Errorf("merge = %+v, want %+v", got, want)
	}
}

func TestAllowlistTargetsAndConditions(t *testing.T) {
	a, _, err := compileAllowlist(allowlistSpec{RegexTarget: "line", Regexes: []string{`^# example`}})
	if err != nil {
		t.Fatal(err)
	}
	if !a.allows("s3cret", "key=s3cret", "# example: key=s3cret") || a.allows("s3cret", "key=s3cret", "key=s3cret") {
		t.Error("line target")
	}
	a, _, _ = compileAllowlist(allowlistSpec{RegexTarget: "match", Regexes: []string{`^key=`}})
	if !a.allows("s3cret", "key=s3cret", "") || a.allows("key=s3cret", "s3cret", "") {
		t.Error("match target")
	}
	a, _, _ = compileAllowlist(allowlistSpec{Condition: "AND", Regexes: []string{`^s3`}, StopWords: []string{"CRET"}})
	if !a.allows("s3cret", "", "") || a.allows("s3xyz", "", "") || a.allows("secret", "", "") {
		t.Error("AND needs every criterion; stopwords ignore case")
	}
	a, _, _ = compileAllowlist(allowlistSpec{Regexes: []string{`^s3`}, StopWords: []string{"cret"}})
	if !a.allows("s3xyz", "", "") || !a.allows("secret", "", "") || a.allows("other", "", "") {
		t.Error("OR needs one criterion")
	}
	if _, _, err := compileAllowlist(allowlistSpec{Condition: "XOR"}); err == nil {
		t.Error("unknown condition accepted")
	}
}

func TestShannonEntropy(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want float64
	}{{"", 0}, {"aaaa", 0}, {"ab", 1}, {"abcd", 2}, {"aabb", 1}} {
		if got := shannonEntropy(tt.s); got != tt.want {
			t.Errorf("shannonEntropy(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestRulesAreKeyedAndUnique(t *testing.T) {
	r := newRedactor(t)
	ids := r.Rules()
	if len(ids) != 78 {
		t.Errorf("%d rules, want 74 from gitleaks + 4 of jiralinkd's", len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("duplicate rule id %s", id)
		}
		seen[id] = true
	}
	for _, id := range []string{"aws-access-token", "github-pat", "gitlab-pat", "slack-bot-token", "private-key", "jwt", "password-assignment", "url-password", "aws-secret-access-key", "secret-assignment"} {
		if !seen[id] {
			t.Errorf("rule %s missing", id)
		}
	}
	// Every rule has keywords: a text without any runs no regexp at all.
	if len(r.pre.always) != 0 {
		t.Errorf("rules without usable keywords: %v", r.pre.always)
	}
}

func TestRedactFastPathDoesNotAllocate(t *testing.T) {
	r := newRedactor(t)
	msg := "ZOOKEEPER-4711: Fix NPE in the leader election when a follower restarts"
	if on := r.pre.active(msg); on != nil {
		t.Fatal("a keyword occurs in the fast-path message; pick another")
	}
	if n := testing.AllocsPerRun(100, func() { r.Redact(msg) }); n != 0 {
		t.Errorf("%v allocations per Redact without keywords", n)
	}
}

func TestPrefilter(t *testing.T) {
	r := newRedactor(t)
	idx := slices.Index(r.Rules(), "github-pat")
	for _, tt := range []struct {
		text string
		want bool
	}{
		{"x GhP_ y", true}, // keywords ignore case, as in gitleaks
		{"ghp_", true},     // at the very end
		{"gh p_", false},
		{"g", false},
		{"", false},
	} {
		on := r.pre.active(tt.text)
		if got := on != nil && on[idx]; got != tt.want {
			t.Errorf("active(%q)[github-pat] = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestRedactConcurrent(t *testing.T) {
	r := newRedactor(t)
	in := "password=hunter2 token ghp_" + gen(30, alnum, 36)
	want, _ := r.Redact(in)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if got, _ := r.Redact(in); got != want {
					t.Errorf("concurrent Redact = %q, want %q", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSecretSpan(t *testing.T) {
	for _, tt := range []struct {
		regex       string
		secretGroup int
		text, want  string
	}{
		{`key=(\w+);(\w+)`, 2, "key=user;pass", "pass"},         // secretGroup chooses
		{`key=(\w*);(\w+)`, 0, "key=;pass", "pass"},             // else the first non-empty group
		{`key=(\w+)|tok=(\w+)`, 1, "tok=abc", ""},               // the chosen group did not match: no secret
		{`\n?secret-\d+\n?`, 0, "x\nsecret-42\ny", "secret-42"}, // no group: the match, newlines trimmed
	} {
		rl, err := compileRule(ruleSpec{ID: "t", Regex: tt.regex, SecretGroup: tt.secretGroup})
		if err != nil {
			t.Fatal(err)
		}
		r := &Redactor{rules: []*rule{rl}}
		fs := r.apply(rl, tt.text, nil)
		got := ""
		if len(fs) == 1 {
			got = tt.text[fs[0].Start:fs[0].End]
		}
		if got != tt.want || len(fs) > 1 {
			t.Errorf("%s (secretGroup %d) on %q: secret %q (%d findings), want %q", tt.regex, tt.secretGroup, tt.text, got, len(fs), tt.want)
		}
	}
	if _, err := compileRule(ruleSpec{ID: "t", Regex: `(a)`, SecretGroup: 2}); err == nil {
		t.Error("secretGroup beyond the regex's groups accepted")
	}
}
