package generator

import (
	"bytes"
	"fmt"
)

// lokiConfig is the subset of Loki's configuration file loki-cmp writes,
// typed so that a misspelt key is a compile error here and Loki's own
// -verify-config (see test/) checks the rest.
type lokiConfig struct {
	AuthEnabled   bool               `json:"auth_enabled"`
	Server        lokiServer         `json:"server"`
	Common        lokiCommon         `json:"common"`
	Memberlist    *lokiMemberlist    `json:"memberlist,omitempty"`
	SchemaConfig  lokiSchemaConfig   `json:"schema_config"`
	StorageConfig *lokiStorageConfig `json:"storage_config,omitempty"`
	Ruler         *lokiRuler         `json:"ruler,omitempty"`
	Querier       *lokiQuerier       `json:"querier,omitempty"`
	RuntimeConfig *lokiRuntime       `json:"runtime_config,omitempty"`
	Compactor     lokiCompactor      `json:"compactor"`
	Limits        lokiLimits         `json:"limits_config"`
	Analytics     lokiAnalytics      `json:"analytics"`
}

type lokiServer struct {
	HTTPListenPort int    `json:"http_listen_port"`
	GRPCListenPort int    `json:"grpc_listen_port"`
	LogLevel       string `json:"log_level"`
}

type lokiCommon struct {
	InstanceAddr         string      `json:"instance_addr,omitempty"`
	PathPrefix           string      `json:"path_prefix"`
	ReplicationFactor    int         `json:"replication_factor"`
	CompactorGRPCAddress string      `json:"compactor_grpc_address,omitempty"`
	Ring                 *lokiRing   `json:"ring,omitempty"`
	Storage              lokiStorage `json:"storage"`
}

type lokiRing struct {
	KVStore struct {
		Store string `json:"store"`
	} `json:"kvstore"`
}

type lokiStorage struct {
	Filesystem *lokiFilesystem `json:"filesystem,omitempty"`
	S3         *lokiS3         `json:"s3,omitempty"`
}

type lokiMemberlist struct {
	JoinMembers []string `json:"join_members"`
}

type lokiStorageConfig struct {
	TSDBShipper struct {
		IndexGatewayClient struct {
			ServerAddress string `json:"server_address"`
		} `json:"index_gateway_client"`
	} `json:"tsdb_shipper"`
}

type lokiRuler struct {
	Storage lokiRulerStorage `json:"storage"`
}

// lokiRulerStorage is the ruler's store: its type names the one backend
// set beside it.
type lokiRulerStorage struct {
	Type string  `json:"type"`
	S3   *lokiS3 `json:"s3,omitempty"`
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

// lokiQuerier: with tenancy, queries across tenants (X-Scope-OrgID a|b),
// which only in-cluster clients can ask for: Traefik sets one tenant.
type lokiQuerier struct {
	MultiTenantQueriesEnabled bool `json:"multi_tenant_queries_enabled"`
}

// lokiRuntime is the file of per-tenant overrides Loki reloads.
type lokiRuntime struct {
	File   string `json:"file"`
	Period string `json:"period"`
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

// lokiConfigYAML renders the configuration of the stack's mode.
func (p *plan) lokiConfigYAML() string {
	retention := p.spec.Loki.Retention
	c := lokiConfig{
		// Authentication is Traefik's job; with tenancy Traefik also says
		// which tenant a request is for, and Loki trusts X-Scope-OrgID.
		AuthEnabled: p.tenancy != nil,
		Server:      lokiServer{HTTPListenPort: lokiHTTPPort, GRPCListenPort: lokiGRPCPort, LogLevel: "info"},
		Common:      lokiCommon{PathPrefix: lokiDataDir},
		Compactor:   lokiCompactor{WorkingDirectory: lokiDataDir + "/compactor"},
		Limits: lokiLimits{
			RetentionPeriod:        retention,
			RejectOldSamples:       true,
			RejectOldSamplesMaxAge: "168h",
		},
		Analytics: lokiAnalytics{ReportingEnabled: false},
	}
	store := "filesystem"
	if p.scalable {
		p.scalableConfig(&c)
		p.store.configure(&c)
		store = p.store.lokiName()
	} else {
		c.Common.InstanceAddr = "127.0.0.1"
		c.Common.ReplicationFactor = 1
		c.Common.Ring = &lokiRing{}
		c.Common.Ring.KVStore.Store = "inmemory"
		c.Common.Storage.Filesystem = &lokiFilesystem{
			ChunksDirectory: lokiDataDir + "/chunks",
			RulesDirectory:  lokiDataDir + "/rules",
		}
	}
	c.SchemaConfig = lokiSchemaConfig{Configs: []lokiPeriodConfig{{
		From: schemaFrom, Store: "tsdb", ObjectStore: store, Schema: "v13",
		Index: lokiIndexPeriod{Prefix: "index_", Period: "24h"},
	}}}
	if p.tenancy != nil {
		c.Querier = &lokiQuerier{MultiTenantQueriesEnabled: true}
		c.RuntimeConfig = &lokiRuntime{File: lokiRuntimeDir + "/" + lokiRuntimeFile, Period: runtimeConfigPeriod}
	}
	if !isZeroDuration(retention) || p.tenantRetention() {
		// Loki refuses to start with retention but no delete-request store.
		c.Compactor.RetentionEnabled = true
		c.Compactor.DeleteRequestStore = store
	}
	return mustYAML(c)
}

// scalableConfig fills in what the three targets need to find each other:
// memberlist for every ring (said explicitly in the common ring: Loki
// would otherwise fall back to Consul as soon as any common ring setting,
// such as an instance address, is given; the query schedulers are found
// through their ring), and the backend's compactor and index gateways.
// The object store's part is objectStore.configure.
func (p *plan) scalableConfig(c *lokiConfig) {
	backend := p.n.loki + "-backend"
	c.Common.ReplicationFactor = min(3, p.spec.SimpleScalable.Write.Replicas)
	c.Common.CompactorGRPCAddress = fmt.Sprintf("%s.%s.svc:%d", backend, p.ns, lokiGRPCPort)
	c.Common.Ring = &lokiRing{}
	c.Common.Ring.KVStore.Store = "memberlist"
	c.Memberlist = &lokiMemberlist{JoinMembers: []string{fmt.Sprintf("%s.%s.svc:%d", p.n.memberlist, p.ns, lokiMemberlistPort)}}
	c.StorageConfig = &lokiStorageConfig{}
	c.StorageConfig.TSDBShipper.IndexGatewayClient.ServerAddress = fmt.Sprintf("dns+%s-headless.%s.svc:%d", backend, p.ns, lokiGRPCPort)
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
