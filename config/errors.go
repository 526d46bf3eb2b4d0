package config

import (
	"math"
	"sort"
	"strings"
)

// Problem is one thing wrong with (or, from Warnings, worth noting about) a
// configuration, located by its YAML path such as "providers[1].schedule".
// Path is empty for problems with the document as a whole.
type Problem struct {
	Path    string
	Message string
}

// String formats the problem as "path: message".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Error is returned by Load and Parse (always as *Error) when the content of
// the configuration is invalid: YAML syntax errors, unknown keys, values of
// the wrong type, invalid values and secrets that cannot be resolved. It
// holds every problem found, in document order, so one run shows a user
// everything to fix. Errors that are not about the content, such as a
// configuration file that cannot be read, are returned as plain errors.
type Error struct {
	Problems []Problem
}

// Error lists the problems one per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// position is a location in the YAML document, 1-based like yaml.Node.
type position struct{ line, column int }

// collector gathers problems while a document is checked and validated.
//
// It knows where each path sits in the document (to sort problems into
// document order), which paths are overridden from the environment (to say
// so in messages), and which paths held a value of the wrong type: values
// decoded from those are meaningless, so later problems at, above or below a
// bad path are dropped instead of reported as confusing follow-ups.
type collector struct {
	problems  []Problem
	positions map[string]position
	envVars   map[string]string // path -> environment variable that set it
	bad       map[string]bool
}

func newCollector() *collector {
	return &collector{
		positions: make(map[string]position),
		envVars:   make(map[string]string),
		bad:       make(map[string]bool),
	}
}

// add records a problem at path.
func (c *collector) add(path, msg string) {
	if name, ok := c.envVars[path]; ok {
		msg += " (set by " + name + ")"
	}
	c.problems = append(c.problems, Problem{Path: path, Message: msg})
}

// addBad records a problem with the type or form of the value at path and
// marks the path so that follow-up problems are suppressed.
func (c *collector) addBad(path, msg string) {
	c.add(path, msg)
	c.bad[path] = true
}

// check records a semantic problem at path unless a related path had a
// value of the wrong type.
func (c *collector) check(path, msg string) {
	for b := range c.bad {
		if related(b, path) {
			return
		}
	}
	c.add(path, msg)
}

// related reports whether a and b are the same path or one is an ancestor
// of the other.
func related(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if !strings.HasPrefix(b, a) {
		return false
	}
	if len(a) == len(b) || a == "" {
		return true
	}
	next := b[len(a)]
	return next == '.' || next == '['
}

// err returns the collected problems sorted into document order as *Error,
// or nil when there are none. Problems about paths absent from the document
// (a missing required key) sort at their nearest present ancestor, or last.
func (c *collector) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	sort.SliceStable(c.problems, func(i, j int) bool {
		a, b := c.position(c.problems[i].Path), c.position(c.problems[j].Path)
		if a.line != b.line {
			return a.line < b.line
		}
		return a.column < b.column
	})
	return &Error{Problems: c.problems}
}

// position returns where path, or its nearest ancestor present in the
// document, is.
func (c *collector) position(path string) position {
	for {
		if p, ok := c.positions[path]; ok {
			return p
		}
		if path == "" {
			return position{line: math.MaxInt, column: math.MaxInt}
		}
		path = parentPath(path)
	}
}

// parentPath strips the last element (".key" or "[i]") from path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// childPath joins a key onto a path.
func childPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
