package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// schemaPaths lists every key the schema accepts as a dotted path, list
// elements without an index: "jira.token_env", "providers.webhook.secret".
// It walks the raw* types exactly as checkDocument does.
func schemaPaths(t reflect.Type, prefix string, out map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == durationType {
		return
	}
	for _, f := range schemaFields(t) {
		p := f.key
		if prefix != "" {
			p = prefix + "." + f.key
		}
		out[p] = true
		schemaPaths(f.typ, p, out)
	}
}

// exampleKeyRE matches what sets a key once indentation and comment
// markers are stripped: an optional "- " and the key.
var exampleKeyRE = regexp.MustCompile(`^(- )?([a-z][a-z0-9_]*):(\s|$)`)

// uncomment strips a line's indentation and comment markers: a
// commented-out alternative is the line with "# " put in front of it (at
// any depth, so "#   # key:" is a commented-out alternative inside a
// commented-out block). It returns the indentation the line would have
// uncommented.
func uncomment(line string) (indent int, rest string) {
	for {
		n := len(line) - len(strings.TrimLeft(line, " "))
		indent += n
		line = line[n:]
		if !strings.HasPrefix(line, "#") {
			return indent, line
		}
		line = strings.TrimPrefix(line[1:], " ")
	}
}

// examplePaths returns the dotted key paths config.example.yaml mentions,
// set or commented out, with the line of each.
func examplePaths(text string) map[string]int {
	type level struct {
		indent int
		path   string
	}
	var stack []level
	out := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		indent, rest := uncomment(line)
		m := exampleKeyRE.FindStringSubmatch(rest)
		if m == nil {
			continue
		}
		indent += len(m[1])
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		p := m[2]
		if len(stack) > 0 {
			p = stack[len(stack)-1].path + "." + m[2]
		}
		if _, seen := out[p]; !seen {
			out[p] = i + 1
		}
		stack = append(stack, level{indent, p})
	}
	return out
}

// TestExampleConfigMentionsEveryKey keeps config.example.yaml complete: every
// key the schema (raw.go, walked like schema.go does) accepts must appear in
// it, set or as a commented-out alternative, in its section. And every key
// it mentions, even commented out, must be one the schema accepts, so that
// uncommenting an alternative never gives an "unknown key" error.
func TestExampleConfigMentionsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	schemaPaths(reflect.TypeFor[rawConfig](), "", want)
	if len(want) < 40 {
		t.Fatalf("schema walk found only %d keys: %v", len(want), want)
	}
	got := examplePaths(string(data))

	var missing []string
	for p := range want {
		if _, ok := got[p]; !ok {
			missing = append(missing, p)
		}
	}
	slices.Sort(missing)
	for _, p := range missing {
		t.Errorf("config.example.yaml does not mention %s (add it, commented out if need be, with its meaning and default)", p)
	}

	var unknown []string
	for p, line := range got {
		if !want[p] {
			unknown = append(unknown, p+" (line "+strconv.Itoa(line)+")")
		}
	}
	slices.Sort(unknown)
	for _, p := range unknown {
		t.Errorf("config.example.yaml mentions %s, which is not a key of the schema", p)
	}
}

// TestExamplePaths checks the line parser on the forms the example uses.
func TestExamplePaths(t *testing.T) {
	got := examplePaths(`
jira:
  url: x
  # token_file: /run/secrets/t
  # Prose that mentions nothing: like this.
providers:
  - name: github
    # webhook:
    #   secret_env: S
    smart_commits:
      enabled: false
  # - name: gitlab
  #   groups: [a]
  #   webhook:
  #     signing_token_env: T
  #     # signing_token_file: F
`)
	for _, p := range []string{"jira", "jira.url", "jira.token_file", "providers", "providers.name",
		"providers.webhook", "providers.webhook.secret_env", "providers.smart_commits",
		"providers.smart_commits.enabled", "providers.groups", "providers.webhook.signing_token_env", "providers.webhook.signing_token_file"} {
		if _, ok := got[p]; !ok {
			t.Errorf("%s not found in %v", p, got)
		}
	}
	if len(got) != 12 {
		t.Errorf("got %d paths, want 12: %v", len(got), got)
	}
}
