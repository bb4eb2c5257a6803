package generator

import (
	"bytes"
)

// lokiConfig is the subset of Loki's configuration file loki-cmp writes,
// typed so that a misspelt key is a compile error here and Loki's own
// -verify-config (see test/) checks the rest.
type lokiConfig struct {
	AuthEnabled  bool             `json:"auth_enabled"`
	Server       lokiServer       `json:"server"`
	Common       lokiCommon       `json:"common"`
	SchemaConfig lokiSchemaConfig `json:"schema_config"`
	Compactor    lokiCompactor    `json:"compactor"`
	Limits       lokiLimits       `json:"limits_config"`
	Analytics    lokiAnalytics    `json:"analytics"`
}

type lokiServer struct {
	HTTPListenPort int    `json:"http_listen_port"`
	GRPCListenPort int    `json:"grpc_listen_port"`
	LogLevel       string `json:"log_level"`
}

type lokiCommon struct {
	InstanceAddr      string      `json:"instance_addr"`
	PathPrefix        string      `json:"path_prefix"`
	ReplicationFactor int         `json:"replication_factor"`
	Ring              lokiRing    `json:"ring"`
	Storage           lokiStorage `json:"storage"`
}

type lokiRing struct {
	KVStore struct {
		Store string `json:"store"`
	} `json:"kvstore"`
}

type lokiStorage struct {
	Filesystem *lokiFilesystem `json:"filesystem,omitempty"`
}

type lokiFilesystem struct {
	ChunksDirectory string `json:"chunks_directory"`
	RulesDirectory  string `json:"rules_directory"`
}

type lokiSchemaConfig struct {
	Configs []lokiPeriodConfig `json:"configs"`
}

type lokiPeriodConfig struct {
	From        string          `json:"from"`
	Store       string          `json:"store"`
	ObjectStore string          `json:"object_store"`
	Schema      string          `json:"schema"`
	Index       lokiIndexPeriod `json:"index"`
}

type lokiIndexPeriod struct {
	Prefix string `json:"prefix"`
	Period string `json:"period"`
}

type lokiCompactor struct {
	WorkingDirectory   string `json:"working_directory"`
	RetentionEnabled   bool   `json:"retention_enabled"`
	DeleteRequestStore string `json:"delete_request_store,omitempty"`
}

type lokiLimits struct {
	RetentionPeriod        string `json:"retention_period"`
	RejectOldSamples       bool   `json:"reject_old_samples"`
	RejectOldSamplesMaxAge string `json:"reject_old_samples_max_age"`
}

type lokiAnalytics struct {
	ReportingEnabled bool `json:"reporting_enabled"`
}

// Paths inside the Loki container. /var/loki is the persistent volume.
const (
	lokiDataDir    = "/var/loki"
	lokiConfigDir  = "/etc/loki/config"
	lokiConfigFile = "config.yaml"
)

// schemaFrom is the start of the only schema period. It must never change
// once data exists: a later schema is appended as a new period.
const schemaFrom = "2024-04-01"

// lokiConfigYAML renders the single-binary configuration.
func (g *gen) lokiConfigYAML() string {
	retention := g.s.Spec.Loki.Retention
	c := lokiConfig{
		AuthEnabled: false, // one tenant; authentication is Traefik's job
		Server:      lokiServer{HTTPListenPort: lokiHTTPPort, GRPCListenPort: lokiGRPCPort, LogLevel: "info"},
		Common: lokiCommon{
			InstanceAddr:      "127.0.0.1",
			PathPrefix:        lokiDataDir,
			ReplicationFactor: 1,
			Storage: lokiStorage{Filesystem: &lokiFilesystem{
				ChunksDirectory: lokiDataDir + "/chunks",
				RulesDirectory:  lokiDataDir + "/rules",
			}},
		},
		SchemaConfig: lokiSchemaConfig{Configs: []lokiPeriodConfig{{
			From: schemaFrom, Store: "tsdb", ObjectStore: "filesystem", Schema: "v13",
			Index: lokiIndexPeriod{Prefix: "index_", Period: "24h"},
		}}},
		Compactor: lokiCompactor{WorkingDirectory: lokiDataDir + "/compactor"},
		Limits: lokiLimits{
			RetentionPeriod:        retention,
			RejectOldSamples:       true,
			RejectOldSamplesMaxAge: "168h",
		},
		Analytics: lokiAnalytics{ReportingEnabled: false},
	}
	c.Common.Ring.KVStore.Store = "inmemory"
	if !isZeroDuration(retention) {
		// Loki refuses to start with retention but no delete-request store.
		c.Compactor.RetentionEnabled = true
		c.Compactor.DeleteRequestStore = "filesystem"
	}
	return mustYAML(c)
}

func isZeroDuration(d string) bool {
	for _, r := range d {
		if r >= '1' && r <= '9' {
			return false
		}
	}
	return true
}

// mustYAML renders a config struct of this package as YAML, with the same
// writer as the manifests. It cannot fail: the structs hold only strings,
// numbers, bools, slices and maps.
func mustYAML(v any) string {
	m, err := jsonMap(v)
	if err != nil {
		panic("generator: " + err.Error())
	}
	var buf bytes.Buffer
	writeYAML(&buf, m)
	return buf.String()
}
