package jirascan

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer/redact"
)

// The precision measurement: how many planted secrets of every rule
// family the scanner finds (recall) and how many findings it reports in
// real text that holds none (false positives). `make bench` prints it;
// the test fails if recall drops or a false positive appears.
//
// Planted secrets are generated at run time (prefix + random body) so
// that this file does not trip secret scanners; none is or was valid.

const (
	lowHex = "0123456789abcdef"
	b64    = alnum + "+/"
	digits = "0123456789"
	lower  = "abcdefghijklmnopqrstuvwxyz"
)

// planted is one generated secret of a rule, in the text a person would
// paste into Jira around it.
type planted struct {
	rule, family string
	before       string
	secret       string
	after        string
}

func plantedSet() []planted {
	g := func(seed uint64, alphabet string, n int) string { return gen(seed+1000, alphabet, n) }
	pem := func() string {
		var b strings.Builder
		for i := range 6 {
			b.WriteString(g(uint64(900+i), b64, 64) + "\n")
		}
		return "-----BEGIN RSA " + "PRIVATE KEY-----\n" + b.String() + "-----END RSA " + "PRIVATE KEY-----"
	}
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ." +
		"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	age := "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
	c := func(rule, family, secret string) planted {
		return planted{rule: rule, family: family, before: "Workaround until the fix: I used ", secret: secret, after: " and it works now.\n"}
	}
	ctx := func(rule, family, before, secret, after string) planted {
		return planted{rule: rule, family: family, before: before, secret: secret, after: after}
	}
	return []planted{
		// Cloud providers.
		c("aws-access-token", "cloud", "AKIA"+g(1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
		c("aws-access-token", "cloud", "ASIA"+g(2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
		c("aws-amazon-bedrock-api-key-long-lived", "cloud", "ABSK"+g(3, alnum, 120)),
		c("gcp-api-key", "cloud", "AIza"+g(4, alnum+"-_", 35)),
		ctx("azure-ad-client-secret", "cloud", "client secret: ", g(5, alnum, 3)+"8Q~"+g(6, alnum+"_~.-", 32), "\n"),
		c("alibaba-access-key-id", "cloud", "LTAI"+g(7, alnum, 20)),
		c("digitalocean-pat", "cloud", "dop_v1_"+g(8, lowHex, 64)),
		c("digitalocean-access-token", "cloud", "doo_v1_"+g(9, lowHex, 64)),
		c("heroku-api-key-v2", "cloud", "HRKU-AA"+g(10, alnum+"_-", 58)),
		// GitHub.
		c("github-pat", "github", "ghp_"+g(11, alnum, 36)),
		c("github-fine-grained-pat", "github", "github_pat_"+g(12, alnum+"_", 82)),
		c("github-oauth", "github", "gho_"+g(13, alnum, 36)),
		c("github-app-token", "github", "ghs_"+g(14, alnum, 36)),
		c("github-refresh-token", "github", "ghr_"+g(15, alnum, 36)),
		// GitLab.
		c("gitlab-pat", "gitlab", "glpat-"+g(16, alnum, 20)),
		c("gitlab-deploy-token", "gitlab", "gldt-"+g(17, alnum, 20)),
		c("gitlab-runner-authentication-token", "gitlab", "glrt-"+g(18, alnum, 20)),
		c("gitlab-ptt", "gitlab", "glptt-"+g(19, lowHex, 40)),
		c("gitlab-feed-token", "gitlab", "glft-"+g(20, alnum, 20)),
		c("gitlab-scim-token", "gitlab", "glsoat-"+g(21, alnum, 20)),
		c("gitlab-kubernetes-agent-token", "gitlab", "glagent-"+g(22, alnum, 50)),
		c("gitlab-oauth-app-secret", "gitlab", "gloas-"+g(23, alnum, 64)),
		c("gitlab-rrt", "gitlab", "GR1348941"+g(24, alnum, 20)),
		ctx("gitlab-session-cookie", "gitlab", "Cookie: ", "_gitlab_session="+g(25, lowHex+"ghijklmnopqrstuvwxyz", 32), "\n"),
		// Slack.
		c("slack-bot-token", "slack", "xoxb-"+g(26, digits, 13)+"-"+g(27, digits, 13)+"-"+g(28, alnum, 24)),
		c("slack-user-token", "slack", "xoxp-"+g(29, digits, 12)+"-"+g(30, digits, 12)+"-"+g(31, digits, 12)+"-"+g(32, alnum, 32)),
		c("slack-app-token", "slack", "xapp-1-A"+g(33, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10)+"-"+g(34, digits, 13)+"-"+g(35, lowHex, 64)),
		ctx("slack-webhook-url", "slack", "Alerts go to ", "https://hooks.slack."+"com/services/"+g(36, alnum, 44), " (channel #ops)\n"),
		// Atlassian.
		ctx("atlassian-api-token", "atlassian", "JIRA_API_TOKEN=", "ATATT3"+g(37, alnum+"_-", 186), "\n"),
		// Keys, JWTs, curl.
		ctx("private-key", "keys", "The deploy key (do not share):\n", pem(), "\n"),
		c("age-secret-key", "keys", "AGE-SECRET-KEY-1"+g(38, age, 58)),
		ctx("jwt", "keys", "Authorization: Bearer ", jwt, "\n"),
		ctx("curl-auth-user", "curl", "Repro:\ncurl -u ", "deploy:"+g(39, alnum, 12), " https://ci.example.com/job/build\n"),
		// Developer services.
		c("anthropic-api-key", "services", "sk-ant-api03-"+g(40, alnum+"_-", 93)+"AA"),
		c("openai-api-key", "services", "sk-proj-"+g(41, alnum+"_-", 74)+"T3BlbkFJ"+g(42, alnum+"_-", 74)),
		c("huggingface-access-token", "services", "hf_"+g(43, lower+"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 34)),
		c("npm-access-token", "services", "npm_"+g(44, alnum, 36)),
		c("pypi-upload-token", "services", "pypi-AgEIcHlwaS5vcmc"+g(45, alnum+"_-", 60)),
		c("rubygems-api-token", "services", "rubygems_"+g(46, lowHex, 48)),
		c("stripe-access-token", "services", "sk_"+"live_"+g(47, alnum, 24)),
		c("sendgrid-api-token", "services", "SG."+g(48, alnum+"_-", 22)+"."+g(49, alnum+"_-", 43)),
		c("postman-api-token", "services", "PMAK-"+g(50, lowHex, 24)+"-"+g(51, lowHex, 34)),
		c("databricks-api-token", "services", "dapi"+g(52, lowHex, 32)),
		c("pulumi-api-token", "services", "pul-"+g(53, lowHex, 40)),
		c("sentry-user-token", "services", "sntryu_"+g(54, lowHex, 64)),
		c("shopify-access-token", "services", "shpat_"+g(55, lowHex, 32)),
		c("linear-api-key", "services", "lin_api_"+g(56, alnum, 40)),
		c("doppler-api-token", "services", "dp.pt."+g(57, alnum, 43)),
		c("vault-service-token", "services", "hvs."+g(58, alnum+"_-", 100)),
		c("grafana-service-account-token", "services", "glsa_"+g(59, alnum, 32)+"_"+g(60, lowHex, 8)),
		// jiralinkd's own rules.
		ctx("aws-secret-access-key", "generic", "[default]\naws_secret_access_key = ", g(61, b64, 40), "\n"),
		ctx("secret-assignment", "generic", "oauth:\n  client_secret: ", g(62, alnum, 32), "\n"),
		ctx("secret-assignment", "generic", `{"api_key": "`, g(63, alnum+"-_", 40), `"}`),
		ctx("password-assignment", "generic", "jdbc settings: user=app password=", "Tr0ub4dor&"+g(64, alnum, 6), " (prod)\n"),
		ctx("password-assignment", "generic", "db:\n  passwd: ", "c0rrect-"+g(65, alnum, 8), "\n"),
		ctx("url-password", "generic", "git clone https://deploy:", g(66, alnum, 14), "@git.example.com/acme/api.git\n"),
	}
}

// nearMisses are texts people paste into Jira that look like secrets but
// are not: placeholders, documentation examples, hashes, ids.
var nearMisses = []string{
	"aws_access_key_id = AKIA" + "IOSFODNN7EXAMPLE",
	"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"password: <your password here>",
	"password=${DB_PASSWORD}",
	"set password to changeme and restart",
	"token: ${{ secrets.GITHUB_TOKEN }}",
	"api_key: YOUR_API_KEY",
	"Commit 53a78e36f99602162643303ab330377fc383b41f fixed it",
	"request id 7f9c2ba4-e88f-11ee-8c90-0242ac120002 failed",
	"sha256:e163e53b9e7e8a8511e77271e2b323ed057759542a6d988258afe3a1fa329caf",
	"See https://jira.example.com/browse/ABC-123?focusedCommentId=10042#comment-10042",
	"java.lang.IllegalStateException: token expired\n\tat org.apache.zookeeper.ClientCnxn$SendThread.run(ClientCnxn.java:1145)",
	"Password: must not be empty",
	"curl -X POST https://jira.example.com/rest/api/2/issue -H 'Content-Type: application/json'",
	"https://user:password@host.example.com/ (the docs' example)",
	"ghp_" + strings.Repeat("x", 36),
	"secret_key = 'dev'",
	"The token_count is 1234567890",
	"-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----",
	"jdbc:postgresql://db.example.com:5432/app?user=app",
	"{code}2026-12-04 14:36:59,123 INFO [main] Session 0x1000a2b3c4d5e6f established{code}",
	"Build #4821 (sha 9b0379c) passed in 12m 3s",
	"Environment: Java 21, Linux 6.8.0-45-generic x86_64, ZooKeeper 3.9.2",
	"Base64 of the header: eyJ0eXAiOiJKV1QifQ (not a token)",
}

// precision is the outcome of one measurement.
type precision struct {
	planted, found, rightRule int
	missed                    []string
	extra                     int // findings in the planted texts beyond the secret
	corpora                   []corpusResult
}

type corpusResult struct {
	name         string
	texts, bytes int
	findings     int
	byRule       map[string]int
}

func measure(t testing.TB) precision {
	rules, err := redact.New()
	if err != nil {
		t.Fatal(err)
	}
	d := &detector{rules: rules, salt: []byte("bench")}
	var p precision
	for _, pl := range plantedSet() {
		text := pl.before + pl.secret + pl.after
		start, end := len(pl.before), len(pl.before)+len(pl.secret)
		p.planted++
		hit, right := false, false
		for _, h := range d.find(text) {
			if h.Start < end && h.End > start {
				hit = true
				right = right || h.Rule == pl.rule
			} else {
				p.extra++
			}
		}
		if hit {
			p.found++
		} else {
			p.missed = append(p.missed, pl.rule)
		}
		if right {
			p.rightRule++
		}
	}
	scan := func(name string, texts []string) {
		r := corpusResult{name: name, byRule: map[string]int{}}
		for _, s := range texts {
			r.texts++
			r.bytes += len(s)
			for _, h := range d.find(s) {
				r.findings++
				r.byRule[h.Rule]++
			}
		}
		p.corpora = append(p.corpora, r)
	}
	scan("zookeeper commit messages", zookeeperMessages(t))
	scan("Jira Server responses (jira-ruby captures)", jiraStrings(t, "testdata/search.jira-ruby.json",
		"testdata/issue-10002.jira-ruby.json", "testdata/comments-10002.jira-ruby.json"))
	scan("ASF Jira project list", jiraStrings(t, filepath.Join("..", "..", "jiraclient", "jiratest", "testdata", "all_projects.json")))
	scan("generated near misses", nearMisses)
	return p
}

func zookeeperMessages(t testing.TB) []string {
	f, err := os.Open(filepath.Join("..", "redact", "testdata", "zookeeper-commits.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c.Message)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// jiraStrings returns every string value of the JSON files: summaries,
// descriptions, comment bodies, names, URLs.
func jiraStrings(t testing.TB, files ...string) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		walk(v)
	}
	return out
}

func (p precision) report() string {
	var b strings.Builder
	families := map[string]bool{}
	for _, pl := range plantedSet() {
		families[pl.family] = true
	}
	fmt.Fprintf(&b, "precision: planted secrets: %d of %d found (recall %.1f%%), %d under the expected rule, %d rules, %d families; %d extra findings around them\n",
		p.found, p.planted, 100*float64(p.found)/float64(p.planted), p.rightRule, len(rulesOf(plantedSet())), len(families), p.extra)
	if len(p.missed) > 0 {
		fmt.Fprintf(&b, "precision: missed: %s\n", strings.Join(p.missed, ", "))
	}
	for _, c := range p.corpora {
		rules := make([]string, 0, len(c.byRule))
		for r, n := range c.byRule {
			rules = append(rules, fmt.Sprintf("%s×%d", r, n))
		}
		sort.Strings(rules)
		fmt.Fprintf(&b, "precision: %s: %d texts, %d KiB, %d false positives %v\n", c.name, c.texts, c.bytes/1024, c.findings, rules)
	}
	return b.String()
}

func rulesOf(ps []planted) map[string]bool {
	m := map[string]bool{}
	for _, p := range ps {
		m[p.rule] = true
	}
	return m
}

// TestSecretScanPrecision measures recall on the planted set and false
// positives on the real corpora; `make bench` prints the report.
func TestSecretScanPrecision(t *testing.T) {
	p := measure(t)
	t.Log("\n" + p.report())
	if p.found != p.planted {
		t.Errorf("recall: missed %v", p.missed)
	}
	if p.rightRule != p.planted {
		t.Errorf("%d of %d planted secrets found under another rule", p.planted-p.rightRule, p.planted)
	}
	for _, c := range p.corpora {
		if c.findings != 0 {
			t.Errorf("%s: %d false positives %v", c.name, c.findings, c.byRule)
		}
	}
}
