package main

import (
	"github.com/jiralinkd/jiralinkd/config"
)

// secret returns the live source of a configured secret (key is its YAML
// path without the _env/_file suffix, e.g. "providers[0].token") and
// registers it, so that reloadSecrets (SIGHUP) re-reads it. A secret read
// from a file follows the file: clients call Value per request. Changes
// and read failures are logged by setting name, never by value.
func (d *deps) secret(s config.Secret, key string) *config.SecretSource {
	src := config.NewSecretSource(s, key, config.SecretOptions{
		OnChange: func(setting string) {
			d.log.Info("secret file changed: the next request uses the new value", "setting", setting)
		},
		OnError: func(setting string, err error) {
			d.log.Warn("cannot re-read a secret file: the previous value stays in use", "setting", setting, "err", err)
		},
	})
	d.secrets = append(d.secrets, src)
	return src
}

// reloadSecrets re-reads every secret file now (SIGHUP), changed or not
// by the look of it.
func (d *deps) reloadSecrets() {
	for _, s := range d.secrets {
		_, _ = s.Reload() // failures are logged by OnError
	}
}
