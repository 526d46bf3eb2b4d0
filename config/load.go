package config

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// Load reads and validates the configuration file at path. See Parse.
//
// A file that cannot be read is reported as a plain wrapped error (so
// errors.Is(err, fs.ErrNotExist) works), not as *Error.
func Load(path string, env func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	if readFile == nil {
		readFile = os.ReadFile
	}
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(data, path, env, readFile)
}

// Parse validates the configuration in data; path is recorded in
// Config.Path. env and readFile look up environment variables and read files
// (token_file, ca_file); nil means os.Getenv and os.ReadFile.
//
// viper loads the document, supplies defaults and applies environment
// overrides: a non-empty JIRALINKD_<SECTION>_<KEY> (JIRALINKD_JIRA_URL,
// JIRALINKD_LOG_LEVEL, ...) replaces the scalar key <section>.<key> of the
// state, http, log and jira sections. Credentials are not overridable this
// way; point token_env at a variable instead. Secrets are resolved while
// loading, so a returned Config is ready to use.
//
// Every problem with the content is collected and returned together as
// *Error, in document order.
func Parse(data []byte, path string, env func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	if env == nil {
		env = os.Getenv
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	c := newCollector()

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		c.add("", syntaxMessage(data, err))
		return nil, c.err()
	}
	checkDocument(&doc, c)

	v := viper.New()
	v.SetConfigType("yaml")
	setDefaults(v)
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		// The document checker reports everything viper's YAML decoding
		// rejects (duplicate keys, a non-mapping document) more precisely.
		if len(c.problems) == 0 {
			c.add("", "invalid YAML: "+err.Error())
		}
		return nil, c.err()
	}
	applyEnv(v, env, c)

	var raw rawConfig
	if err := v.Unmarshal(&raw); err != nil && len(c.bad) == 0 {
		// Unreachable while the document checker accepts only values
		// that decode; reported rather than hidden should that change.
		c.add("", fmt.Sprintf("cannot decode configuration: %v", err))
	}
	cfg := build(&raw, path, env, readFile, c)
	if err := c.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// syntaxMessage turns a YAML parser error for the document data into a
// problem message naming the line of the problem.
func syntaxMessage(data []byte, err error) string {
	problem := yamlProblem(err)
	msg := problem
	switch line, ok := problemLine(data, problem); {
	case ok:
		msg = fmt.Sprintf("line %d: %s", line, problem)
	case !strings.Contains(problem, "anchor") && !strings.Contains(problem, "alias") && !strings.Contains(problem, "merge"):
		// Not expected (the whole document reproduces the problem); the
		// first line beats no line at all.
		msg = "line 1: " + problem
	}
	if strings.Contains(msg, "cannot start any token") {
		msg += ` (quote values that start with "@" or "*", e.g. schedule: "@hourly")`
	}
	return "invalid YAML: " + msg
}

// problemLine returns the 1-based line of a YAML syntax problem in data.
//
// yaml.v3 does not report where a problem is: its messages name the line
// where the enclosing construct starts (a mapping, a sequence), 0-based for
// parser errors and 1-based for scanner errors, or no line at all for
// problems on the first line and for anchors and aliases. So the problem is
// located by parsing growing prefixes of the document: it is on the first
// line whose prefix fails with the same problem (the parser reads a line's
// tokens only once it has the line; a prefix that ends inside an unclosed
// construct fails with another problem, such as an unexpected end).
func problemLine(data []byte, problem string) (int, bool) {
	var prefix []byte
	for i, l := range bytes.SplitAfter(data, []byte("\n")) {
		prefix = append(prefix, l...)
		var doc yaml.Node
		if err := yaml.Unmarshal(prefix, &doc); err != nil && yamlProblem(err) == problem {
			return i + 1, true
		}
	}
	return 0, false
}

// yamlProblem is the problem a yaml.v3 syntax error describes, without the
// "yaml: " and "line N: " prefixes (the line is not the problem's; see
// problemLine).
func yamlProblem(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if _, err := strconv.Atoi(num); err == nil {
				return tail
			}
		}
	}
	return msg
}

// envOverride is a key that can be overridden from the environment.
type envOverride struct {
	key string       // viper key, e.g. "jira.url"
	env string       // variable, e.g. "JIRALINKD_JIRA_URL"
	typ reflect.Type // schema type of the key
}

// envOverrides lists the overridable keys: every scalar, non-secret key of
// the top-level sections (keys inside the providers list have no stable
// name to override).
func envOverrides() []envOverride {
	var out []envOverride
	for _, section := range schemaFields(reflect.TypeFor[rawConfig]()) {
		if section.typ.Kind() != reflect.Struct {
			continue
		}
		for _, f := range schemaFields(section.typ) {
			if f.secret || f.typ.Kind() == reflect.Slice || f.typ.Kind() == reflect.Struct && f.typ != durationType ||
				f.typ.Kind() == reflect.Pointer && f.typ.Elem().Kind() == reflect.Struct {
				continue // secrets, lists and subsections (jira.secret_scan, state.postgres) are not overridable
			}
			key := section.key + "." + f.key
			out = append(out, envOverride{
				key: key,
				env: EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_")),
				typ: f.typ,
			})
		}
	}
	return out
}

// applyEnv sets every override whose variable is non-empty in v. viper's
// AutomaticEnv would read the process environment directly; setting values
// from the injected env keeps this testable.
func applyEnv(v *viper.Viper, env func(string) string, c *collector) {
	for _, o := range envOverrides() {
		s := env(o.env)
		if s == "" {
			continue
		}
		c.envVars[o.key] = o.env
		val, err := parseScalar(o.typ, s)
		if err != nil {
			c.addBad(o.key, err.Error())
			continue
		}
		v.Set(o.key, val)
	}
}

// parseScalar converts an environment value to the Go type of its key.
func parseScalar(t reflect.Type, s string) (any, error) {
	switch {
	case t == durationType:
		return parseDuration(s)
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("expected true or false, got %q", s)
		}
		return b, nil
	case t.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("expected an integer, got %q", s)
		}
		return n, nil
	default:
		return s, nil
	}
}
