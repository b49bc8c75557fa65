// Package config loads the gateway's configuration: defaults, then an
// optional YAML file, then ZEROLOSS_* environment variables, then command-line
// flags, and validates the result once at start.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole process configuration.
type Config struct {
	// Listen is the HTTP listen address.
	Listen string `yaml:"listen"`
	// NameServers are RocketMQ name server addresses (host:port).
	NameServers []string `yaml:"nameServers"`
	// ProducerGroup is the RocketMQ producer group of the send path.
	ProducerGroup string `yaml:"producerGroup"`
	// SendTimeout bounds one broker send attempt.
	SendTimeout time.Duration `yaml:"sendTimeout"`
	// SendRetries is how many times a failed send attempt is retried by the
	// RocketMQ client (with the same message id).
	SendRetries int `yaml:"sendRetries"`
	// SendCoalesce lets concurrent single sends to one topic share a broker
	// request (each keeps its own id, receipt and outcome).
	SendCoalesce bool `yaml:"sendCoalesce"`
	// MaxBodyBytes limits an HTTP request body.
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// MaxMessageBytes limits one decoded message body (the broker's
	// maxMessageSize, 4 MiB by default).
	MaxMessageBytes int `yaml:"maxMessageBytes"`
	// IdempotencyTTL is how long a completed Idempotency-Key answer is kept.
	IdempotencyTTL time.Duration `yaml:"idempotencyTTL"`
	// IdempotencyLease is how long a running request holds its key before
	// another replica may take it over (it must outlast a send).
	IdempotencyLease time.Duration `yaml:"idempotencyLease"`
	// ShutdownTimeout bounds draining in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
	// Redis says how to reach Redis.
	Redis Redis `yaml:"redis"`
	// APIKeys are the accepted API keys.
	APIKeys []APIKey `yaml:"apiKeys"`
	// TxGroup is the transactional producer group; every replica joins it
	// and nothing else may use it.
	TxGroup string `yaml:"txGroup"`
	// TxCheckMax must equal the brokers' transactionCheckMax: after that
	// many check-backs an undecided transaction is discarded by the broker.
	TxCheckMax int `yaml:"txCheckMax"`
	// TxRecordTTL keeps transaction records in Redis (longer than the
	// broker's whole check window).
	TxRecordTTL time.Duration `yaml:"txRecordTTL"`
	// AllowPrivateWebhooks lets webhook URLs point at loopback, private and
	// link-local addresses. Off by default (SSRF guard).
	AllowPrivateWebhooks bool `yaml:"allowPrivateWebhooks"`
	// Cluster is the RocketMQ cluster name (for the topics the gateway
	// creates: subscriptions' retry and dead-letter topics).
	Cluster string `yaml:"cluster"`
	// DedupWindow is how long a delivered message is remembered, so a
	// duplicate within it is not delivered again.
	DedupWindow time.Duration `yaml:"dedupWindow"`
	// DelayLevels is the brokers' messageDelayLevel (to honour Retry-After).
	DelayLevels string `yaml:"delayLevels"`
	// OTLPEndpoint, when set, exports traces over OTLP/HTTP to it
	// (host:port or URL). Empty turns trace export off.
	OTLPEndpoint string `yaml:"otlpEndpoint"`
	// PprofListen, when set, serves net/http/pprof on this address (keep it
	// on loopback or a private network).
	PprofListen string `yaml:"pprofListen"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"logLevel"`
}

// Redis says how to reach Redis: a single node by URL, or Addrs with
// MasterName for Sentinel, or several Addrs for Cluster.
type Redis struct {
	URL        string   `yaml:"url"`
	Addrs      []string `yaml:"addrs"`
	MasterName string   `yaml:"masterName"`
	Username   string   `yaml:"username"`
	Password   string   `yaml:"password"`
	DB         int      `yaml:"db"`
	// PoolSize bounds connections per node; concurrent requests with an
	// Idempotency-Key and concurrent deliveries each hold one briefly.
	PoolSize int `yaml:"poolSize"`
}

// APIKey is one accepted bearer key.
type APIKey struct {
	// Name identifies the key in logs and scopes idempotency keys.
	Name string `yaml:"name"`
	// Key is the secret the client sends as "Authorization: Bearer <key>".
	Key string `yaml:"key"`
	// Tenant owns the resources the key creates; defaults to Name.
	Tenant string `yaml:"tenant"`
	// Scopes grant actions: "admin", "publish:<topic glob>" (send) or
	// "transact:<topic glob>" (transactions and their producers) or
	// "subscribe:<topic glob>" (push subscriptions).
	Scopes []string `yaml:"scopes"`
}

// Default returns the defaults.
func Default() Config {
	return Config{
		Listen:           ":8080",
		NameServers:      []string{"127.0.0.1:9876"},
		ProducerGroup:    "zeroloss-gateway",
		SendTimeout:      3 * time.Second,
		SendRetries:      2,
		SendCoalesce:     true,
		MaxBodyBytes:     6 << 20,
		MaxMessageBytes:  4 << 20,
		IdempotencyTTL:   24 * time.Hour,
		IdempotencyLease: 30 * time.Second,
		ShutdownTimeout:  20 * time.Second,
		Redis:            Redis{URL: "redis://127.0.0.1:6379/0", PoolSize: 128},
		TxGroup:          "zeroloss-tx",
		TxCheckMax:       15,
		TxRecordTTL:      7 * 24 * time.Hour,
		DedupWindow:      24 * time.Hour,
		Cluster:          "DefaultCluster",
		DelayLevels:      "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h",
		LogLevel:         "info",
	}
}

// Load builds the configuration from defaults, the YAML file named by
// -config or ZEROLOSS_CONFIG, the environment and args (without the program
// name), and validates it. getenv is os.Getenv in production.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := Default()
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", getenv("ZEROLOSS_CONFIG"), "YAML configuration file (env ZEROLOSS_CONFIG)")
	listen := fs.String("listen", "", "HTTP listen address (env ZEROLOSS_LISTEN)")
	namesrv := fs.String("namesrv", "", "comma-separated RocketMQ name servers (env ZEROLOSS_NAMESRV)")
	redisURL := fs.String("redis-url", "", "Redis URL for a single node (env ZEROLOSS_REDIS_URL)")
	apiKeys := fs.String("api-keys", "", "API keys name[@tenant]:key:scope,scope;… (env ZEROLOSS_API_KEYS)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (env ZEROLOSS_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if *file != "" {
		if err := loadFile(&cfg, *file); err != nil {
			return cfg, err
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return cfg, err
	}
	var flagErr error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			cfg.Listen = *listen
		case "namesrv":
			cfg.NameServers = splitList(*namesrv)
		case "redis-url":
			cfg.Redis.URL = *redisURL
		case "api-keys":
			keys, err := ParseAPIKeys(*apiKeys)
			if err != nil {
				flagErr = err
			}
			cfg.APIKeys = keys
		case "log-level":
			cfg.LogLevel = *logLevel
		}
	})
	if flagErr != nil {
		return cfg, fmt.Errorf("config: -api-keys: %w", flagErr)
	}
	return cfg, cfg.Validate()
}

func loadFile(cfg *Config, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: open %s: %w", path, err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: parse %s: %w", path, err)
	}
	return nil
}

// applyEnv overlays ZEROLOSS_* variables onto cfg.
func applyEnv(cfg *Config, getenv func(string) string) error {
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	list := func(name string, dst *[]string) {
		if v := getenv(name); v != "" {
			*dst = splitList(v)
		}
	}
	var errs []error
	dur := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			*dst = d
		}
	}
	integer := func(name string, set func(int64)) {
		if v := getenv(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			set(n)
		}
	}
	str("ZEROLOSS_LISTEN", &cfg.Listen)
	list("ZEROLOSS_NAMESRV", &cfg.NameServers)
	str("ZEROLOSS_PRODUCER_GROUP", &cfg.ProducerGroup)
	dur("ZEROLOSS_SEND_TIMEOUT", &cfg.SendTimeout)
	integer("ZEROLOSS_SEND_RETRIES", func(n int64) { cfg.SendRetries = int(n) })
	if v := getenv("ZEROLOSS_SEND_COALESCE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ZEROLOSS_SEND_COALESCE: %w", err))
		}
		cfg.SendCoalesce = b
	}
	integer("ZEROLOSS_MAX_BODY_BYTES", func(n int64) { cfg.MaxBodyBytes = n })
	integer("ZEROLOSS_MAX_MESSAGE_BYTES", func(n int64) { cfg.MaxMessageBytes = int(n) })
	dur("ZEROLOSS_IDEMPOTENCY_TTL", &cfg.IdempotencyTTL)
	dur("ZEROLOSS_IDEMPOTENCY_LEASE", &cfg.IdempotencyLease)
	dur("ZEROLOSS_SHUTDOWN_TIMEOUT", &cfg.ShutdownTimeout)
	str("ZEROLOSS_REDIS_URL", &cfg.Redis.URL)
	list("ZEROLOSS_REDIS_ADDRS", &cfg.Redis.Addrs)
	// Addrs from the environment replace a URL that the environment does
	// not also set (the default's, or the file's): one source of truth.
	if getenv("ZEROLOSS_REDIS_ADDRS") != "" && getenv("ZEROLOSS_REDIS_URL") == "" {
		cfg.Redis.URL = ""
	}
	str("ZEROLOSS_REDIS_MASTER_NAME", &cfg.Redis.MasterName)
	str("ZEROLOSS_REDIS_USERNAME", &cfg.Redis.Username)
	str("ZEROLOSS_REDIS_PASSWORD", &cfg.Redis.Password)
	integer("ZEROLOSS_REDIS_POOL_SIZE", func(n int64) { cfg.Redis.PoolSize = int(n) })
	str("ZEROLOSS_TX_GROUP", &cfg.TxGroup)
	integer("ZEROLOSS_TX_CHECK_MAX", func(n int64) { cfg.TxCheckMax = int(n) })
	dur("ZEROLOSS_TX_RECORD_TTL", &cfg.TxRecordTTL)
	if v := getenv("ZEROLOSS_ALLOW_PRIVATE_WEBHOOKS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ZEROLOSS_ALLOW_PRIVATE_WEBHOOKS: %w", err))
		}
		cfg.AllowPrivateWebhooks = b
	}
	dur("ZEROLOSS_DEDUP_WINDOW", &cfg.DedupWindow)
	str("ZEROLOSS_CLUSTER", &cfg.Cluster)
	str("ZEROLOSS_DELAY_LEVELS", &cfg.DelayLevels)
	str("ZEROLOSS_OTLP_ENDPOINT", &cfg.OTLPEndpoint)
	str("ZEROLOSS_PPROF_LISTEN", &cfg.PprofListen)
	str("ZEROLOSS_LOG_LEVEL", &cfg.LogLevel)
	if v := getenv("ZEROLOSS_API_KEYS"); v != "" {
		keys, err := ParseAPIKeys(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ZEROLOSS_API_KEYS: %w", err))
		}
		cfg.APIKeys = keys
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// ParseAPIKeys parses "name[@tenant]:key:scope,scope;…", for example
// "billing@acme:s3cret-key:publish:orders-*,publish:invoices".
func ParseAPIKeys(s string) ([]APIKey, error) {
	var keys []APIKey
	for _, entry := range strings.Split(s, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		parts := strings.SplitN(entry, ":", 3)
		if len(parts) < 3 {
			return nil, fmt.Errorf("entry %q: want name[@tenant]:key:scope,scope", redactEntry(entry))
		}
		name, tenant, _ := strings.Cut(parts[0], "@")
		keys = append(keys, APIKey{Name: name, Tenant: tenant, Key: parts[1], Scopes: splitList(parts[2])})
	}
	return keys, nil
}

// redactEntry keeps an API key entry's name only, so errors never print a key.
func redactEntry(entry string) string {
	name, _, _ := strings.Cut(entry, ":")
	return name + ":…"
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen %q: %v", c.Listen, err)
	}
	if len(c.NameServers) == 0 {
		bad("nameServers: at least one name server is required")
	}
	for _, ns := range c.NameServers {
		if _, _, err := net.SplitHostPort(ns); err != nil {
			bad("nameServers %q: want host:port", ns)
		}
	}
	if c.ProducerGroup == "" {
		bad("producerGroup: must not be empty")
	}
	if c.TxGroup == "" || c.TxGroup == c.ProducerGroup {
		bad("txGroup: must be set and differ from producerGroup")
	}
	if c.TxCheckMax < 1 {
		bad("txCheckMax: must be at least 1 (the brokers' transactionCheckMax)")
	}
	if c.DedupWindow < time.Second {
		bad("dedupWindow: must be at least 1s")
	}
	for _, f := range strings.Fields(c.DelayLevels) {
		if _, err := time.ParseDuration(f); err != nil {
			bad("delayLevels: %q is not a duration", f)
		}
	}
	if c.TxRecordTTL < time.Hour {
		bad("txRecordTTL: must be at least 1h")
	}
	if c.SendTimeout <= 0 {
		bad("sendTimeout: must be positive")
	}
	if c.SendRetries < 0 || c.SendRetries > 10 {
		bad("sendRetries: must be 0 to 10")
	}
	if c.MaxBodyBytes < 1024 {
		bad("maxBodyBytes: must be at least 1024")
	}
	if c.MaxMessageBytes < 1 || c.MaxMessageBytes > 4<<20 {
		bad("maxMessageBytes: must be 1 to %d (the broker's limit)", 4<<20)
	}
	if c.IdempotencyTTL < time.Minute {
		bad("idempotencyTTL: must be at least 1m")
	}
	if min := c.SendTimeout * time.Duration(c.SendRetries+1); c.IdempotencyLease <= min {
		bad("idempotencyLease: must exceed sendTimeout×(sendRetries+1) = %s", min)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdownTimeout: must be positive")
	}
	if err := c.Redis.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.APIKeys) == 0 {
		bad("apiKeys: at least one API key is required")
	}
	names := map[string]bool{}
	secrets := map[string]bool{}
	for i, k := range c.APIKeys {
		switch {
		case k.Name == "":
			bad("apiKeys[%d]: name is required", i)
		case names[k.Name]:
			bad("apiKeys[%d]: duplicate name %q", i, k.Name)
		}
		names[k.Name] = true
		if len(k.Key) < 8 {
			bad("apiKeys[%d] (%s): key must be at least 8 characters", i, k.Name)
		}
		if secrets[k.Key] {
			bad("apiKeys[%d] (%s): key is used twice", i, k.Name)
		}
		secrets[k.Key] = true
		if len(k.Scopes) == 0 {
			bad("apiKeys[%d] (%s): at least one scope is required", i, k.Name)
		}
		for _, s := range k.Scopes {
			if err := ValidateScope(s); err != nil {
				bad("apiKeys[%d] (%s): %v", i, k.Name, err)
			}
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("logLevel %q: want debug, info, warn or error", c.LogLevel)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: invalid:\n%w", err)
	}
	return nil
}

// ValidateScope checks one scope string: "admin", "publish:<glob>" or
// "transact:<glob>".
func ValidateScope(s string) error {
	if s == "admin" {
		return nil
	}
	action, pattern, ok := strings.Cut(s, ":")
	if !ok || pattern == "" {
		return fmt.Errorf("scope %q: want admin, or publish:, transact: or subscribe: followed by a topic glob", s)
	}
	switch action {
	case "publish", "transact", "subscribe":
	default:
		return fmt.Errorf("scope %q: unknown action %q", s, action)
	}
	return nil
}

func (r Redis) validate() error {
	if r.URL != "" && len(r.Addrs) > 0 {
		return errors.New("redis: set url or addrs, not both")
	}
	if r.URL == "" && len(r.Addrs) == 0 {
		return errors.New("redis: url or addrs is required")
	}
	if r.PoolSize < 1 {
		return errors.New("redis: poolSize must be at least 1")
	}
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			return fmt.Errorf("redis: url %q: want redis://host:port/db", redactURL(r.URL))
		}
	}
	return nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable>"
	}
	return u.Redacted()
}
