package config

import (
	"log/slog"
)

// redacted is what every textual representation of a Secret shows.
const redacted = "[redacted]"

// Secret sources, the values of Secret.Source.
const (
	SourceEnv     = "env"     // read from the environment variable named by Env
	SourceFile    = "file"    // read from the file named by File
	SourceLiteral = "literal" // written literally in the configuration file
)

// Secret is a credential (token or password) and where it came from.
//
// Env, File and Value mirror the configuration keys (token_env, token_file,
// token and the password_* equivalents); at most one of them is set. Value
// is the literal as written in the file, kept only so the configuration can
// be reported faithfully; use Reveal, which works for every source.
//
// The resolved value lives in an unexported field and is returned only by
// Reveal. String, GoString, LogValue and MarshalText all return
// "[redacted]", so printing a Config with fmt (%v, %+v, %#v), logging it
// with slog or encoding it as JSON never discloses a credential.
type Secret struct {
	Env    string // name of the environment variable holding the secret
	File   string // path of the file holding the secret
	Value  string // literal from the configuration file (discouraged)
	Source string // SourceEnv, SourceFile, SourceLiteral or "" when unset

	value string // resolved secret
}

// Reveal returns the resolved secret. Call it only where the credential is
// handed to a client, never to build messages.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether a secret was configured and resolved.
func (s Secret) IsSet() bool { return s.value != "" }

// Literal reports whether the secret was written literally in the
// configuration file, which Warnings reports as a risk.
func (s Secret) Literal() bool { return s.Source == SourceLiteral }

// String implements fmt.Stringer without disclosing the secret.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer (%#v) without disclosing the secret.
func (s Secret) GoString() string { return redacted }

// LogValue implements slog.LogValuer without disclosing the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler so that JSON (including
// slog's JSON handler, which does not resolve nested LogValuers) and other
// text encodings redact the secret too.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Setting names where the secret comes from, for messages that tell an
// administrator what to fix, never the secret itself: for key
// "providers[1].token" it is "providers[1].token_env (GITHUB_TOKEN)",
// "providers[1].token_file (/run/secrets/gh)" or "providers[1].token (a
// literal in the configuration file)".
func (s Secret) Setting(key string) string {
	switch {
	case s.Env != "":
		return key + "_env (" + s.Env + ")"
	case s.File != "":
		return key + "_file (" + s.File + ")"
	case s.Source == SourceLiteral || s.Value != "":
		return key + " (a literal in the configuration file)"
	}
	return key
}
