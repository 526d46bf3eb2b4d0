package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/keys"
)

// build validates the decoded configuration and converts it into a Config,
// recording problems in c. The result is meaningful only when c holds no
// problems.
func build(raw *rawConfig, path string, env func(string) string, readFile func(string) ([]byte, error), c *collector) *Config {
	cfg := &Config{
		Path:  path,
		State: State{Backend: strings.ToLower(raw.State.Backend), Path: raw.State.Path},
		HTTP:  HTTP{Listen: raw.HTTP.Listen},
		Log: Log{
			Level:  strings.ToLower(raw.Log.Level),
			Format: strings.ToLower(raw.Log.Format),
		},
	}
	buildState(&cfg.State, &raw.State, env, readFile, c)
	checkListen("http.listen", cfg.HTTP.Listen, c)
	adminKeys := secretKeys{"admin_token_env", "admin_token_file", "admin_token"}
	cfg.HTTP.AdminToken, _ = resolveSecret("http", adminKeys,
		raw.HTTP.AdminTokenEnv, raw.HTTP.AdminTokenFile, raw.HTTP.AdminToken, env, readFile, c)
	if t := cfg.HTTP.AdminToken.Reveal(); t != "" && len(t) < 16 {
		c.check(adminKeys.path("http", cfg.HTTP.AdminToken),
			"too short: use at least 16 random characters (e.g. openssl rand -hex 24)")
	}
	checkOneOf("log.level", cfg.Log.Level, []string{"debug", "info", "warn", "error"}, c)
	checkOneOf("log.format", cfg.Log.Format, []string{"text", "json"}, c)
	cfg.Jira = buildJira(&raw.Jira, env, readFile, c)
	cfg.Providers = buildProviders(raw.Providers, env, readFile, c)
	return cfg
}

// buildState validates the state section: the backend and what it needs.
func buildState(st *State, raw *rawState, env func(string) string, readFile func(string) ([]byte, error), c *collector) {
	checkOneOf("state.backend", st.Backend, []string{BackendBolt, BackendPostgres}, c)
	dsnKeys := secretKeys{"dsn_env", "dsn_file", "dsn"}
	dsn, set := resolveSecret("state.postgres", dsnKeys,
		raw.Postgres.DSNEnv, raw.Postgres.DSNFile, raw.Postgres.DSN, env, readFile, c)
	switch st.Backend {
	case BackendBolt:
		if st.Path == "" {
			c.check("state.path", "required")
		}
		if set {
			c.check("state.postgres", "set only with state.backend: postgres")
		}
	case BackendPostgres:
		if !set {
			c.check("state.postgres.dsn_env", "required with state.backend: postgres (or dsn_file, or dsn)")
		}
		st.Postgres.DSN = dsn
	}
}

func checkListen(p, addr string, c *collector) {
	if addr == "" {
		c.check(p, "required")
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			err = errors.New(ae.Err)
		}
		c.check(p, fmt.Sprintf("invalid address %q: %v (want host:port, e.g. 127.0.0.1:8080)", addr, err))
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		c.check(p, fmt.Sprintf("invalid port %q in %q: want a number from 0 to 65535", port, addr))
	}
}

func checkOneOf(p, v string, allowed []string, c *collector) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.check(p, fmt.Sprintf("must be one of %s; got %q", strings.Join(allowed, ", "), v))
}

// projectKeyRE is what an entry of jira.projects must look like.
var projectKeyRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`)

func buildJira(raw *rawJira, env func(string) string, readFile func(string) ([]byte, error), c *collector) Jira {
	j := Jira{
		Username:                  raw.Username,
		Projects:                  raw.Projects,
		KeyPattern:                raw.KeyPattern,
		BranchKeysCaseInsensitive: raw.BranchKeysCaseInsensitive,
		Timeout:                   raw.Timeout,
		CAFile:                    raw.CAFile,
		Deployment:                strings.ToLower(raw.Deployment),
		MaxConcurrency:            raw.MaxConcurrency,
	}
	if j.MaxConcurrency < 1 || j.MaxConcurrency > MaxConcurrencyLimit {
		c.check("jira.max_concurrency", fmt.Sprintf("must be between 1 and %d, got %d", MaxConcurrencyLimit, j.MaxConcurrency))
	}
	switch j.Deployment {
	case "auto", "datacenter", "cloud":
	default:
		c.check("jira.deployment", fmt.Sprintf("invalid value %q: want auto, datacenter or cloud", raw.Deployment))
	}
	if raw.StatusIconsURL != "" {
		if u, ok := checkURL("jira.status_icons_url", raw.StatusIconsURL, c); ok {
			j.StatusIconsURL = strings.TrimRight(u.String(), "/")
		}
	}
	if u, ok := checkURL("jira.url", raw.URL, c); ok {
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		j.URL = u.String()
	}

	var tokenSet, passwordSet bool
	j.Token, tokenSet = resolveSecret("jira", secretKeys{"token_env", "token_file", "token"},
		raw.TokenEnv, raw.TokenFile, raw.Token, env, readFile, c)
	j.Password, passwordSet = resolveSecret("jira", secretKeys{"password_env", "password_file", "password"},
		raw.PasswordEnv, raw.PasswordFile, raw.Password, env, readFile, c)
	switch {
	case tokenSet && (raw.Username != "" || passwordSet):
		c.check("jira", "set either a token (token_env, token_file or token) or username and password, not both")
	case tokenSet:
	case raw.Username != "" && !passwordSet:
		c.check("jira", "username is set but no password: set password_env, password_file or password")
	case raw.Username == "" && passwordSet:
		c.check("jira.username", "required with a password")
	case raw.Username == "":
		c.check("jira", "credentials required: set token_env, token_file or token to a personal access token, "+
			"or username with password_env, password_file or password")
	}

	seen := make(map[string]bool)
	for i, key := range raw.Projects {
		p := fmt.Sprintf("jira.projects[%d]", i)
		switch {
		case !projectKeyRE.MatchString(key):
			c.check(p, fmt.Sprintf("invalid project key %q: must match %s (an uppercase letter, then uppercase letters, digits or _)",
				key, projectKeyRE))
		case seen[key]:
			c.check(p, fmt.Sprintf("duplicate project %q", key))
		}
		seen[key] = true
	}
	checkKeyPattern("jira.key_pattern", raw.KeyPattern, c)
	checkTimeout("jira.timeout", j.Timeout, c)
	checkCAFile("jira.ca_file", j.CAFile, readFile, c)
	j.SecretScan = buildSecretScan(raw.SecretScan, j.Projects, c) // secretscan.go
	return j
}

// checkKeyPattern checks a project-key regular expression. It is embedded
// into larger expressions (key, "-", number), so it must not be anchored and
// must not match the empty string, which would find "keys" like "-1". The
// common mistakes get specific messages here; keys.NewMatcher, which the
// daemon builds from the pattern, then has the final word, so a pattern
// accepted here is never refused at startup.
func checkKeyPattern(p, pattern string, c *collector) {
	if pattern == "" {
		c.check(p, "required")
		return
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		c.check(p, fmt.Sprintf("invalid regular expression %q: %v", pattern, regexpReason(err)))
		return
	}
	if matchesEmpty(re) {
		c.check(p, fmt.Sprintf("%q matches the empty string; a project key has at least one character", pattern))
		return
	}
	if hasAssertion(pattern) {
		c.check(p, fmt.Sprintf(`%q must not contain anchors or word boundaries (^ $ \A \z \b \B); it is matched inside branch names and messages`, pattern))
		return
	}
	if _, err := keys.NewMatcher(pattern, false); err != nil {
		c.check(p, err.Error())
	}
}

// matchesEmpty reports whether re can match the empty string. Probing a
// few short subjects also catches zero-width matches that depend on context,
// such as \b.
func matchesEmpty(re *regexp.Regexp) bool {
	for _, probe := range []string{"", " ", "-", "_", "a", "A", "1", "a-b", "AB-1"} {
		for _, m := range re.FindAllStringIndex(probe, -1) {
			if m[0] == m[1] {
				return true
			}
		}
	}
	return false
}

// regexpReason strips the pattern regexp repeats in its errors.
func regexpReason(err error) error {
	var se *syntax.Error
	if errors.As(err, &se) {
		return errors.New(string(se.Code))
	}
	return err
}

func hasAssertion(pattern string) bool {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return false
	}
	var walk func(*syntax.Regexp) bool
	walk = func(r *syntax.Regexp) bool {
		switch r.Op {
		case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
			syntax.OpWordBoundary, syntax.OpNoWordBoundary:
			return true
		}
		for _, s := range r.Sub {
			if walk(s) {
				return true
			}
		}
		return false
	}
	return walk(re)
}

// checkURL checks that raw is an absolute http(s) URL without credentials,
// query or fragment. Messages show the URL with any password redacted.
func checkURL(p, raw string, c *collector) (*url.URL, bool) {
	if raw == "" {
		c.check(p, "required")
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, which may hold credentials
		}
		c.check(p, fmt.Sprintf("invalid URL: %v", err))
		return nil, false
	}
	switch {
	case u.User != nil:
		c.check(p, "must not contain credentials; configure them with token_env or token_file")
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.check(p, fmt.Sprintf("must be an absolute http or https URL, got %q", u.Redacted()))
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		c.check(p, fmt.Sprintf("must not contain a query or fragment, got %q", u.Redacted()))
	default:
		return u, true
	}
	return nil, false
}

func checkTimeout(p string, d time.Duration, c *collector) {
	if d <= 0 {
		c.check(p, fmt.Sprintf("must be positive, got %v", d))
	}
}

// checkCAFile checks that a CA bundle, if configured, is readable and holds
// at least one PEM certificate.
func checkCAFile(p, file string, readFile func(string) ([]byte, error), c *collector) {
	if file == "" {
		return
	}
	data, err := readFile(file)
	if err != nil {
		c.check(p, fmt.Sprintf("cannot read %q: %v", file, pathReason(err)))
		return
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		c.check(p, fmt.Sprintf("%q contains no PEM certificates", file))
	}
}

// pathReason strips the path an fs.PathError repeats.
func pathReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
