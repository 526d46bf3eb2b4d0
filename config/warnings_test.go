package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"clean", validJira + validProvider, nil},
		{"literal secrets", "jira:\n  url: https://jira.example.com\n  username: bob\n  password: pw\n" +
			"providers:\n  - name: gh\n    type: github\n    token: t\n    orgs: [a]\n", []string{
			"jira.password: secret written literally in the configuration file; prefer password_env or password_file",
			"providers[0].token: secret written literally in the configuration file; prefer token_env or token_file"}},
		{"literal jira token", "jira:\n  url: https://jira.example.com\n  token: t\n" + validProvider, []string{
			"jira.token: secret written literally in the configuration file; prefer token_env or token_file"}},
		{"listen on all interfaces", "http:\n  listen: \":8080\"\n" + validJira + validProvider, []string{
			`http.listen: ":8080" is reachable from other hosts and the HTTP server has no TLS or authentication; ` +
				"put it behind a TLS-terminating proxy or restrict access with a firewall"}},
		{"listen on a LAN address", "http:\n  listen: 10.0.0.5:8080\n" + validJira + validProvider, []string{
			`http.listen: "10.0.0.5:8080" is reachable from other hosts and the HTTP server has no TLS or authentication; ` +
				"put it behind a TLS-terminating proxy or restrict access with a firewall"}},
		{"listen on loopback names", "http:\n  listen: localhost:8080\n" + validJira + validProvider, nil},
		{"listen on IPv6 loopback", "http:\n  listen: \"[::1]:8080\"\n" + validJira + validProvider, nil},
		{"plain http jira", "jira:\n  url: http://jira.example.com\n  token_env: JIRA_TOKEN\n" + validProvider, []string{
			"jira.url: plain http to a non-loopback host sends credentials unencrypted; use https"}},
		{"plain http jira on loopback", "jira:\n  url: http://127.0.0.1:2990/jira\n  token_env: JIRA_TOKEN\n" + validProvider, nil},
		{"plain http provider", validJira + gh("url: http://ghe.example.com/api/v3"), []string{
			"providers[0].url: plain http to a non-loopback host sends credentials unencrypted; use https"}},
		{"no providers", validJira, []string{"providers: no providers configured; nothing will be indexed"}},
		{"empty providers list", validJira + "providers: []\n", []string{"providers: no providers configured; nothing will be indexed"}},
		{"glob without slash", validJira + gh(`exclude: ["acme/x", "legacy"]`), []string{
			`providers[0].exclude[1]: "legacy" contains no "/" and can never match an owner/name; did you mean "*/legacy"?`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, tt.doc, testEnv, nil)
			var got []string
			for _, w := range Warnings(cfg) {
				got = append(got, w.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Warnings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
