package redact

import (
	"slices"
	"testing"
)

// TestOwnSecretRules covers jiralinkd's rules for what gitleaks'
// generic-api-key would find, which is left out (see rules/README.md):
// AWS secret access keys and high-entropy values of secret, API key and
// token assignments.
func TestOwnSecretRules(t *testing.T) {
	awsKey := gen(40, b64, 40)
	for _, tt := range []struct {
		name, rule     string
		before, secret string
		after          string
	}{
		{"AWS env", "aws-secret-access-key", "ZOOKEEPER-1 CI: export AWS_SECRET_ACCESS_KEY=", awsKey, "\nexport AWS_REGION=eu-west-1"},
		{"AWS credentials file", "aws-secret-access-key", "[default]\naws_secret_access_key = ", awsKey, "\n"},
		{"AWS JSON (STS)", "aws-secret-access-key", `{"SecretAccessKey": "`, awsKey, `", "SessionToken": null}`},
		{"AWS YAML camelCase", "aws-secret-access-key", "s3:\n  secretAccessKey: ", awsKey, ""},
		{"AWS short name", "aws-secret-access-key", "aws_secret_key='", awsKey, "'"},
		{"AWS dotted property", "aws-secret-access-key", "-Daws.secret.key=", awsKey, " -Dx=y"},
		{"client_secret", "secret-assignment", "oauth: client_secret=", gen(41, alnum, 32), "&grant_type=client_credentials"},
		{"JSON api_key", "secret-assignment", `{"api_key": "`, gen(42, alnum+"-_", 40), `"}`},
		{"Django SECRET_KEY", "secret-assignment", "SECRET_KEY = '", gen(43, alnum+"!@#%^&*(-_=+)", 50), "'"},
		{"header x-api-key", "secret-assignment", "curl -H x-api-key:", gen(44, alnum, 24), " https://api.example.com"},
		{"apiKey YAML", "secret-assignment", "datadog:\n  apiKey: ", gen(45, lowHex, 32), "\n"},
		{"hex token", "secret-assignment", "JENKINS_API_TOKEN=", gen(46, lowHex, 34), " in the job"},
		{"access_token in a query", "secret-assignment", "GET /user?access_token=", gen(47, alnum+"._-", 40), " returned 200"},
		{"credentials", "secret-assignment", "credentials: ", gen(48, b64, 44), ""},
		{"signing key", "secret-assignment", "jwt.signing_key=", gen(49, b64, 43) + "=", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRedactor(t)
			in := tt.before + tt.secret + tt.after
			got, fs := r.Redact(in)
			want := tt.before + Marker(tt.rule) + tt.after
			if got != want {
				t.Errorf("Redact:\n got %q\nwant %q", got, want)
			}
			wantF := []Finding{{Rule: tt.rule, Start: len(tt.before), End: len(tt.before) + len(tt.secret)}}
			if !slices.Equal(fs, wantF) {
				t.Errorf("findings %+v, want %+v", fs, wantF)
			}
		})
	}
}

func TestOwnSecretRulesLeaveNonSecretsAlone(t *testing.T) {
	for _, tt := range []struct{ name, text string }{
		// aws-secret-access-key
		{"AWS documentation key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		{"AWS, 40 hex digits (entropy at most 4)", "AWS_SECRET_ACCESS_KEY=53a78e36f99602162643303ab330377fc383b41f"},
		{"AWS, 39 characters", "AWS_SECRET_ACCESS_KEY=" + gen(50, b64, 39)},
		{"AWS, 41 characters", "AWS_SECRET_ACCESS_KEY=" + gen(51, b64, 41)},
		{"AWS, variable", "aws_secret_access_key: ${AWS_SECRET_ACCESS_KEY}"},
		{"AWS, prose", "ZOOKEEPER-1: read aws_secret_access_key from the environment"},
		// secret-assignment
		{"word", "clientSecret: required, see the docs"},
		{"identifier", "token=org.apache.zookeeper.server.auth.KerberosName"},
		{"variable", "api_key: ${API_KEY}"},
		{"Actions secret", "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}"},
		{"short", `secret_key = "changeme"`},
		{"low entropy", "token: 1111222233334444"},
		{"digits in sequence", "token: 1234567890123456"},
		{"URL", `"token": "https://auth.example.com/oauth2/v1/token"`},
		{"key file", "private_key: ./certs/server-2048.pem"},
		{"path", "credentials=/home/zk/conf/jaas.conf"},
		{"name not ending in a keyword", "token_count: " + gen(52, alnum, 20)},
		{"keyword inside a word", "tokenizer=" + gen(53, alnum, 20)},
		{"no assignment", "ZOOKEEPER-4784: Token based ASF JIRA authentication " + gen(54, alnum, 20)},
		{"prose", "Secret: the session password is now random (ZOOKEEPER-1234)"},
		{"dotted name with a digit", "token=org.apache.zookeeper.server.quorum.QuorumPeer1"},
		{"issue key", "token: ZOOKEEPER-1234-followup"},
		{"version", "secret: 3.9.2-rc1-candidate"},
		{"superSecret", "Store the digest in ZooKeeperServer.superSecret\n\nAuthor: Colm"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRedactor(t)
			if got, fs := r.Redact(tt.text); got != tt.text || fs != nil {
				t.Errorf("Redact(%q) = %q, %+v; want it unchanged", tt.text, got, fs)
			}
		})
	}
}
