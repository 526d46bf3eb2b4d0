package config

import (
	"fmt"
	"regexp"
	"strings"
)

// secretKeys names the three keys that can configure one secret, e.g.
// token_env, token_file and token.
type secretKeys struct{ env, file, literal string }

// path is the YAML path of the key that configured s in the section at
// section: a problem with the value names the key the user wrote
// (http.admin_token_env, not http.admin_token).
func (k secretKeys) path(section string, s Secret) string {
	switch s.Source {
	case SourceEnv:
		return childPath(section, k.env)
	case SourceFile:
		return childPath(section, k.file)
	}
	return childPath(section, k.literal)
}

// envNameRE is what an environment variable name looks like.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// resolveSecret resolves the secret configured by the keys k of the section
// at path (e.g. "jira" or "providers[0]") and reports whether any of the
// keys was set, so callers can tell "not configured" from "configured but
// broken" (already reported) and avoid a follow-up "required" problem.
//
// Messages name variables and files, never their contents.
func resolveSecret(path string, k secretKeys, envName, file, literal string,
	env func(string) string, readFile func(string) ([]byte, error), c *collector) (Secret, bool) {
	var set []string
	for _, kv := range [][2]string{{k.env, envName}, {k.file, file}, {k.literal, literal}} {
		if kv[1] != "" {
			set = append(set, kv[0])
		}
	}
	switch len(set) {
	case 0:
		return Secret{}, false
	case 1:
	default:
		c.check(path, fmt.Sprintf("set only one of %s, %s or %s (found %s)",
			k.env, k.file, k.literal, strings.Join(set, " and ")))
		return Secret{}, true
	}

	s := Secret{Env: envName, File: file, Value: literal}
	switch {
	case envName != "":
		p := childPath(path, k.env)
		s.Source = SourceEnv
		if name, ok := strings.CutPrefix(envName, "$"); ok && envNameRE.MatchString(name) {
			c.check(p, fmt.Sprintf("names the variable: write %s, not %s", name, envName))
			return s, true
		}
		if !envNameRE.MatchString(envName) {
			c.check(p, fmt.Sprintf("%q is not an environment variable name", envName))
			return s, true
		}
		// Trimmed like file secrets: a trailing newline (echo, kubectl
		// create secret --from-file) would break every request header.
		s.value = strings.TrimSpace(env(envName))
		if s.value == "" {
			c.check(p, fmt.Sprintf("environment variable %s is not set or empty", envName))
		}
	case file != "":
		p := childPath(path, k.file)
		s.Source = SourceFile
		data, err := readFile(file)
		if err != nil {
			c.check(p, fmt.Sprintf("cannot read %q: %v", file, pathReason(err)))
			return s, true
		}
		s.value = strings.TrimRight(string(data), " \t\r\n")
		if s.value == "" {
			c.check(p, fmt.Sprintf("%q is empty", file))
		}
	default:
		s.Source = SourceLiteral
		s.value = literal
	}
	return s, true
}
