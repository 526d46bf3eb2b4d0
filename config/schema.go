package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// This file checks the YAML document itself, before viper decodes it:
// unknown keys, duplicate keys and values of the wrong type, each named by
// its full YAML path. viper/mapstructure would ignore unknown keys and
// report type errors vaguely (or silently coerce them, turning an unquoted
// 0123 into 83), so the document is walked node by node against the schema
// the raw* types define.

var durationType = reflect.TypeFor[time.Duration]()

// schemaField is one key of a mapping in the schema.
type schemaField struct {
	key    string
	typ    reflect.Type
	secret bool // never overridable from the environment
}

// schemaFields lists the keys of a raw struct type in declaration order.
func schemaFields(t reflect.Type) []schemaField {
	fields := make([]schemaField, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		key := f.Tag.Get("mapstructure")
		if key == "" || key == "-" {
			continue
		}
		fields = append(fields, schemaField{key: key, typ: f.Type, secret: f.Tag.Get("secret") == "true"})
	}
	return fields
}

// checkDocument checks the parsed document against the schema of rawConfig,
// recording problems and the position of every path in c.
func checkDocument(doc *yaml.Node, c *collector) {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		root = root.Content[0]
	}
	if root.Kind == 0 || isNull(root) {
		return // an empty file: every key takes its default
	}
	root = resolveAlias(root)
	if root.Kind != yaml.MappingNode {
		c.addBad("", fmt.Sprintf("line %d: the configuration must be a mapping of keys (state:, http:, log:, jira:, providers:)", root.Line))
		return
	}
	checkNode(root, reflect.TypeFor[rawConfig](), "", c)
}

// checkNode checks that n has the shape of Go type t.
func checkNode(n *yaml.Node, t reflect.Type, path string, c *collector) {
	n = resolveAlias(n)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if isNull(n) {
		return // an explicit null is the same as leaving the key out
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
			c.addBad(path, fmt.Sprintf(`expected a duration such as "30s" or "1m30s", got %s`, describe(n)))
			return
		}
		if _, err := parseDuration(n.Value); err != nil {
			c.addBad(path, err.Error())
		}
	case t.Kind() == reflect.Struct:
		checkMapping(n, t, path, c)
	case t.Kind() == reflect.Slice:
		checkSequence(n, t.Elem(), path, c)
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode {
			c.addBad(path, "expected a string, got "+describe(n))
		} else if n.Tag != "!!str" {
			c.addBad(path, fmt.Sprintf("expected a string, got %s (quote it to use it as text)", describe(n)))
		}
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			c.addBad(path, "expected true or false, got "+describe(n))
		}
	case t.Kind() == reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			c.addBad(path, "expected an integer, got "+describe(n))
		} else if _, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, strconv.IntSize); err != nil {
			c.addBad(path, fmt.Sprintf("integer %s is out of range", n.Value))
		}
	case t.Kind() == reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!float" && n.Tag != "!!int") {
			c.addBad(path, "expected a number, got "+describe(n))
		}
	default:
		panic(fmt.Sprintf("config: schema type %v has no checker", t)) // a programming error in raw.go
	}
}

// checkMapping checks a mapping against the fields of struct type t.
func checkMapping(n *yaml.Node, t reflect.Type, path string, c *collector) {
	if n.Kind != yaml.MappingNode {
		c.addBad(path, "expected a mapping")
		return
	}
	fields := schemaFields(t)
	byKey := make(map[string]reflect.Type, len(fields))
	for _, f := range fields {
		byKey[f.key] = f.typ
	}
	seen := make(map[string]int) // key -> line of first definition
	for _, e := range mappingEntries(n) {
		k := e.key
		if k.Kind != yaml.ScalarNode {
			c.addBad(path, fmt.Sprintf("line %d: keys must be plain words, got %s", k.Line, describe(k)))
			continue
		}
		kp := childPath(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			if !e.merged {
				c.addBad(kp, fmt.Sprintf("duplicate key (first set on line %d)", line))
			}
			continue
		}
		seen[k.Value] = k.Line
		c.positions[kp] = position{line: k.Line, column: k.Column}
		typ, ok := byKey[k.Value]
		if !ok {
			c.add(kp, "unknown key"+suggest(k.Value, fields))
			continue
		}
		checkNode(e.value, typ, kp, c)
	}
}

// checkSequence checks a list whose elements must have Go type elem.
func checkSequence(n *yaml.Node, elem reflect.Type, path string, c *collector) {
	if n.Kind != yaml.SequenceNode {
		c.addBad(path, "expected a list")
		return
	}
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		c.positions[ip] = position{line: item.Line, column: item.Column}
		if isNull(resolveAlias(item)) {
			c.addBad(ip, "empty list item")
			continue
		}
		checkNode(item, elem, ip, c)
	}
}

// entry is one key/value pair of a mapping; merged marks pairs brought in
// by a YAML merge key (<<: *anchor), which explicit keys override.
type entry struct {
	key, value *yaml.Node
	merged     bool
}

// mappingEntries returns the pairs of mapping n: its own pairs first, in
// document order, then those of merged mappings.
func mappingEntries(n *yaml.Node) []entry {
	var own, merged []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = append(merged, mergeEntries(v)...)
			continue
		}
		own = append(own, entry{key: k, value: v})
	}
	return append(own, merged...)
}

// mergeEntries returns the pairs a merge key's value brings in. Invalid
// merge values are left to the YAML decoder, which rejects them.
func mergeEntries(v *yaml.Node) []entry {
	v = resolveAlias(v)
	var sources []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{v}
	case yaml.SequenceNode:
		for _, s := range v.Content {
			sources = append(sources, resolveAlias(s))
		}
	}
	var out []entry
	for _, s := range sources {
		if s.Kind != yaml.MappingNode {
			continue
		}
		for _, e := range mappingEntries(s) {
			e.merged = true
			out = append(out, e)
		}
	}
	return out
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!str":
		return strconv.Quote(n.Value)
	case "!!int":
		return "integer " + n.Value
	case "!!float":
		return "number " + n.Value
	case "!!bool":
		return "boolean " + n.Value
	case "!!timestamp":
		return "timestamp " + n.Value
	}
	return n.Tag + " " + n.Value
}

// parseDuration parses a duration with a message fit for a Problem.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`invalid duration %q: use a number with a unit such as "30s", "2m" or "1h"`, s)
	}
	return d, nil
}

// suggest returns ` (did you mean "x"?)` for the known key closest to an
// unknown one, or "" when none is close.
func suggest(unknown string, fields []schemaField) string {
	best, bestDist := "", 3 // at most two edits away
	for _, f := range fields {
		if strings.EqualFold(f.key, unknown) {
			best = f.key
			break
		}
		if d := editDistance(strings.ToLower(unknown), f.key); d < bestDist && d < len(f.key) {
			best, bestDist = f.key, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
