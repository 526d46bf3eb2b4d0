module github.com/jiralinkd/jiralinkd

go 1.26.8

require (
	github.com/fsnotify/fsnotify v1.9.0 
	github.com/go-viper/mapstructure/v2 v2.4.0 
	github.com/google/go-github/v62 v62.0.0 
	github.com/google/go-querystring v1.2.0 
	github.com/gorilla/mux v1.8.1 
	github.com/hashicorp/go-cleanhttp v0.5.2 
	github.com/hashicorp/go-retryablehttp v0.7.8 
	github.com/pelletier/go-toml/v2 v2.2.4 
	github.com/prometheus/client_golang v1.25.0 
	github.com/robfig/cron/v3 v3.0.1 
	github.com/sagikazarmark/locafero v0.11.0 
	github.com/sourcegraph/conc v0.3.1-0.20240121214520-5f936abd7ae8 
	github.com/spf13/afero v1.15.0 
	github.com/spf13/cast v1.10.0 
	github.com/spf13/pflag v1.0.10 
	github.com/spf13/viper v1.21.0 
	github.com/subosito/gotenv v1.6.0 
	gitlab.com/gitlab-org/api/client-go v1.46.0 
	go.etcd.io/bbolt v1.5.0 
	go.yaml.in/yaml/v3 v3.0.4 
	golang.org/x/oauth2 v0.37.0 
	golang.org/x/sys v0.48.0 
	golang.org/x/text v0.42.0 
	golang.org/x/time v0.14.0 
)
